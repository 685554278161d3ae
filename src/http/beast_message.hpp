#pragma once
// Beast's HTTP messages <-> http::Request/Response. The server and the
// request fuzz target both read requests with Beast's parser and convert
// them here, so the fuzzer sees exactly what a connection sees. Only the
// message types: no Asio I/O, so this compiles much faster than server.cpp.
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "http/message.hpp"
#include "http/middleware.hpp"

namespace http {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastResponse = boost::beast::http::response<boost::beast::http::string_body>;
using BeastResponseHeader = boost::beast::http::response<boost::beast::http::empty_body>;

// Checks the raw header block at the start of `bytes` before Beast's parser
// sees (and unfolds) it: the 400 answer for folded header lines, after which
// the connection closes, or nullopt.
std::optional<Response> refuse_raw_header(std::string_view bytes, const MiddlewareConfig& config);

// A parsed request as the router sees it, with its request id and its client
// IP (after TRUSTED_PROXIES); or the 400 answer, after which the connection
// closes, when its framing or Host is refused (http/framing.hpp), its target
// is neither origin-form nor http(s) absolute-form, or its path or a query
// parameter decodes to bytes that are not UTF-8 or hold a NUL (ids and
// filters come from them, and PostgreSQL refuses such text with an error).
std::variant<Request, Response> accept_request(BeastRequest& beast_request, const std::string& peer,
                                               const MiddlewareConfig& config);

BeastResponse to_beast(Response&& response, bool keep_alive);
// The status line and headers of a streamed response, announcing a chunked body.
BeastResponseHeader to_beast_header(Response&& response, bool keep_alive);

// The answer to bytes that are not a request Beast could read (400, or 413 /
// 431 over the limits), with the headers every answer carries.
Response read_error_response(const boost::beast::error_code& ec, const MiddlewareConfig& config);

}  // namespace http
