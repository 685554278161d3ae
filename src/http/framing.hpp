#pragma once
// Request framing that Boost.Beast 1.81 accepts but a proxy in front of the
// server may read differently (RFC 9112 §5.2, §6.1, §6.3, §3.2): each such
// message is refused with 400 and its connection closed, so no bytes the
// proxy took for a body can be served here as a second request.
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <optional>
#include <string_view>

namespace http {

// Where the header block at the start of `bytes` ends (just past its empty
// line), or npos while it is incomplete. Bare-LF line ends count, so that
// Beast, not a wait for more bytes, refuses them.
std::size_t header_end(std::string_view bytes);

// True when a header line starts with SP or HTAB: obsolete line folding, or
// whitespace before the first field. Beast unfolds such lines; a proxy may not.
bool has_folded_line(std::string_view header);

// Why a parsed request's framing or Host is refused, or nullopt when it is
// fine: Transfer-Encoding other than exactly one "chunked" on HTTP/1.1
// (Beast reads a body of unknown coding, or none, when chunked is not
// last), and a missing or repeated Host on HTTP/1.1.
std::optional<std::string_view> framing_problem(
    const boost::beast::http::request<boost::beast::http::string_body>& request);

}  // namespace http
