#include "http/pagination.hpp"

#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>
#include <charconv>

#include "core/api_error.hpp"

namespace http {

PageRequest page_request(const Request& request, int default_limit, int max_limit) {
  PageRequest page;
  page.limit = default_limit;
  if (const auto limit = request.query("limit")) {
    int value = 0;
    const auto [end, ec] = std::from_chars(limit->data(), limit->data() + limit->size(), value);
    if (ec != std::errc() || end != limit->data() + limit->size() || value < 1 || value > max_limit) {
      throw core::validation_error("'limit' must be a whole number from 1 to " + std::to_string(max_limit) + ".");
    }
    page.limit = value;
  }
  if (const auto cursor = request.query("cursor"); cursor && !cursor->empty()) {
    page.after = core::decode_cursor(*cursor);
  }
  return page;
}

void link_next_page(Response& response, const Request& request, const PageRequest& page,
                    const std::optional<core::Cursor>& next) {
  if (!next) return;
  auto parsed = boost::urls::parse_origin_form(request.raw_target);
  if (!parsed) return;
  boost::urls::url target(*parsed);
  auto params = target.params();
  params.set("limit", std::to_string(page.limit));
  params.set("cursor", core::encode_cursor(*next));
  response.set_header("Link", "<" + std::string(target.buffer()) + ">; rel=\"next\"");
}

}  // namespace http
