#include "http/csrf.hpp"

#include <algorithm>

#include "core/origin.hpp"

namespace http {

OriginCheck::OriginCheck(const std::string& public_url,
                         const std::vector<std::string>& allowed_origins) {
  for (const auto& url : allowed_origins) {
    if (auto origin = core::web_origin(url)) origins_.push_back(std::move(*origin));
  }
  if (auto own = core::web_origin(public_url)) origins_.push_back(std::move(*own));
}

bool OriginCheck::allows(const Request& request) const {
  const auto origin_header = request.header("Origin");
  // Origin decides when present: browsers set it and a page cannot change
  // it. Referer is the fallback for browsers that send no Origin on
  // same-origin POSTs; a request with neither is refused.
  const auto source = origin_header.empty() ? request.header("Referer") : origin_header;
  const auto origin = core::web_origin(source);
  return origin && std::find(origins_.begin(), origins_.end(), *origin) != origins_.end();
}

bool changes_state(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS" && method != "TRACE";
}

}  // namespace http
