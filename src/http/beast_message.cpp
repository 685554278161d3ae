#include "http/beast_message.hpp"

#include <boost/beast/http/error.hpp>
#include <boost/url/parse.hpp>

#include "core/utf8.hpp"
#include "http/framing.hpp"

namespace http {

namespace bhttp = boost::beast::http;

namespace {

// The target as origin-form ("/path?query"). HTTP/1.1 servers must also
// accept absolute-form ("http://host/path?query", sent through proxies).
std::optional<boost::urls::url_view> origin_form(std::string_view target) {
  if (auto origin = boost::urls::parse_origin_form(target)) return *origin;
  auto absolute = boost::urls::parse_absolute_uri(target);
  if (!absolute || (absolute->scheme() != "http" && absolute->scheme() != "https")) return std::nullopt;
  return *absolute;
}

// The decoded path and query hold ids and filters that reach SQL as text,
// and PostgreSQL refuses bytes that are not UTF-8 with an error (a 500 for
// ?user_id=%FF, found by request_fuzz on PostgreSQL).
bool has_text_only(const boost::urls::url_view& target) {
  if (!core::is_text(target.path())) return false;
  for (const auto& param : target.params()) {
    if (!core::is_text(param.key) || !core::is_text(param.value)) return false;
  }
  return true;
}

// An answer to a request that never reached the router: no route and no
// access log line, but the same headers as every other answer.
Response unrouted(Response response, const MiddlewareConfig& config) {
  Request request;
  request.request_id = request_id_for({});
  finish_response(response, request, config);
  return response;
}

Response bad_request(std::string_view why, const MiddlewareConfig& config) {
  return unrouted(Response::error(400, "bad_request", why), config);
}

std::optional<Request> to_request(BeastRequest& beast_request, const std::string& peer,
                                  const MiddlewareConfig& config) {
  const auto target = origin_form(beast_request.target());
  if (!target) return std::nullopt;
  Request request;
  request.method = std::string(beast_request.method_string());
  request.raw_target = std::string(target->encoded_resource());
  if (request.raw_target.empty() || request.raw_target.front() != '/') request.raw_target.insert(0, "/");
  request.path = std::string(target->path());
  if (!has_text_only(*target)) return std::nullopt;
  if (request.path.empty()) request.path = "/";
  while (request.path.size() > 1 && request.path.back() == '/') request.path.pop_back();
  for (const auto& field : beast_request) {
    request.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  request.body = std::move(beast_request.body());
  request.user_agent = std::string(request.header("User-Agent"));
  request.request_id = request_id_for(request.header("X-Request-Id"));
  request.client_ip =
      resolve_client_ip(peer, request.header_list("X-Forwarded-For"), config.trusted_proxies);
  return request;
}

}  // namespace

std::optional<Response> refuse_raw_header(std::string_view bytes, const MiddlewareConfig& config) {
  if (has_folded_line(bytes.substr(0, header_end(bytes)))) {
    return bad_request("Folded header lines are not accepted.", config);
  }
  return std::nullopt;
}

std::variant<Request, Response> accept_request(BeastRequest& beast_request, const std::string& peer,
                                               const MiddlewareConfig& config) {
  if (const auto problem = framing_problem(beast_request)) return bad_request(*problem, config);
  if (auto request = to_request(beast_request, peer, config)) return std::move(*request);
  return bad_request("The request target is not valid.", config);
}

BeastResponse to_beast(Response&& response, bool keep_alive) {
  BeastResponse out{static_cast<bhttp::status>(response.status), 11};
  for (auto& [name, value] : response.headers) out.insert(name, value);
  out.body() = std::move(response.body);
  out.keep_alive(keep_alive);
  out.prepare_payload();
  // A 304 must not claim a length other than the 200's (RFC 9110, 8.6);
  // prepare_payload writes 0 for its empty body.
  if (out.result() == bhttp::status::not_modified) out.erase(bhttp::field::content_length);
  return out;
}

BeastResponseHeader to_beast_header(Response&& response, bool keep_alive) {
  bhttp::response<bhttp::empty_body> out{static_cast<bhttp::status>(response.status), 11};
  for (auto& [name, value] : response.headers) out.insert(name, value);
  out.keep_alive(keep_alive);
  out.chunked(true);
  return out;
}

Response read_error_response(const boost::beast::error_code& ec, const MiddlewareConfig& config) {
  if (ec == bhttp::error::body_limit) {
    return unrouted(Response::error(413, "payload_too_large", "The request body is too large."), config);
  }
  if (ec == bhttp::error::header_limit) {
    return unrouted(Response::error(431, "headers_too_large", "The request headers are too large."), config);
  }
  return unrouted(Response::error(400, "bad_request", "The request is not valid HTTP."), config);
}

}  // namespace http
