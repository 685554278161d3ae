#include "http/framing.hpp"

#include <algorithm>
#include <iterator>

#include "core/text.hpp"
#include "http/message.hpp"

namespace http {

namespace bhttp = boost::beast::http;

std::size_t header_end(std::string_view bytes) {
  const auto crlf = bytes.find("\n\r\n");
  const auto lf = bytes.find("\n\n");
  if (crlf == std::string_view::npos && lf == std::string_view::npos) return std::string_view::npos;
  return crlf < lf ? crlf + 3 : lf + 2;
}

bool has_folded_line(std::string_view header) {
  return header.find("\n ") != std::string_view::npos || header.find("\n\t") != std::string_view::npos;
}

std::optional<std::string_view> framing_problem(const bhttp::request<bhttp::string_body>& request) {
  const auto codings = request.equal_range(bhttp::field::transfer_encoding);
  const auto coding_count = std::distance(codings.first, codings.second);
  if (coding_count > 0 && (request.version() != 11 || coding_count > 1 ||
                           !iequals(core::trim_view(codings.first->value()), "chunked"))) {
    return "Only 'Transfer-Encoding: chunked' is accepted, once, on HTTP/1.1.";
  }
  const auto hosts = request.count(bhttp::field::host);
  if (hosts > 1 || (hosts == 0 && request.version() == 11)) {
    return "An HTTP/1.1 request needs exactly one Host header.";
  }
  return std::nullopt;
}

}  // namespace http
