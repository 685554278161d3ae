#pragma once
// Beast's HTTP messages <-> http::Request/Response. The server and the
// request fuzz target both read requests with Beast's parser and convert
// them here, so the fuzzer sees exactly what a connection sees. Only the
// message types: no Asio I/O, so this compiles much faster than server.cpp.
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "http/message.hpp"
#include "http/middleware.hpp"

namespace http {

using BeastRequest = boost::beast::http::request<boost::beast::http::string_body>;
using BeastResponse = boost::beast::http::response<boost::beast::http::string_body>;

// The request as the router sees it, with its request id and its client IP
// (after TRUSTED_PROXIES). nullopt when the target is neither origin-form
// nor http(s) absolute-form, or its path decodes to bytes that are not
// UTF-8 or hold a NUL (ids come from the path, and PostgreSQL refuses such
// text with an error).
std::optional<Request> to_request(BeastRequest& beast_request, const std::string& peer,
                                  const MiddlewareConfig& config);

BeastResponse to_beast(Response&& response, bool keep_alive);

// The answer to bytes that are not a request Beast could read (400, or 413 /
// 431 over the limits), with the headers every answer carries.
Response read_error_response(const boost::beast::error_code& ec, const MiddlewareConfig& config);

// A 400 saying `why`, for a request refused before routing.
Response bad_request_response(std::string_view why, const MiddlewareConfig& config);

// The answer when to_request refuses the target.
Response bad_target_response(const MiddlewareConfig& config);

}  // namespace http
