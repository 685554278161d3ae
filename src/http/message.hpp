#pragma once
#include <boost/json/value.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace http {

using Header = std::pair<std::string, std::string>;

// Who made the request, once the auth middleware has checked the token.
struct Principal {
  // The actor recorded in histories and the Idempotency-Key scope: a user's
  // id, or "api_key:<id>" for an API key (docs/API.md, API keys).
  std::string user_id;
  std::string session_id;
  bool is_admin = false;
  std::string api_key_id;  // set when an API key authenticated the request
};

// A request as the routes see it: no Beast types, so domain code compiles fast.
struct Request {
  std::string method;        // "GET", "POST", ...
  std::string path;          // percent-decoded, without a trailing slash
  std::string raw_target;    // as sent
  std::vector<Header> headers;
  std::string body;
  std::string client_ip;     // after TRUSTED_PROXIES
  std::string user_agent;
  std::string request_id;
  std::string route;  // the canonical pattern that matched (aliases share it)
  std::map<std::string, std::string> path_params;
  std::optional<Principal> principal;  // set for routes that require auth
  // The handler runs on an io thread, which must never wait for the database:
  // a handler that finds it needs to answers Response::needs_database().
  bool on_io_thread = false;

  std::string_view header(std::string_view name) const;  // case-insensitive; "" when absent
  // Every line of a list header, comma-joined in order (RFC 9110 §5.3): a
  // proxy may append its own line rather than extend the client's.
  std::string header_list(std::string_view name) const;
  std::optional<std::string> query(std::string_view name) const;  // percent-decoded
  std::string_view cookie(std::string_view name) const;
  // The token of "Authorization: Bearer <token>"; nullopt without one.
  std::optional<std::string_view> bearer_token() const;
  // The API key sent as `X-Api-Key`, or as a bearer token starting `rk_`.
  std::optional<std::string_view> api_key() const;
  const std::string& param(const std::string& name) const { return path_params.at(name); }
  const Principal& user() const { return principal.value(); }
};

struct Response {
  int status = 200;
  std::vector<Header> headers;
  std::string body;
  std::string error_code;  // for the access log; set by error()
  // A body too large to hold in memory (exports): when set, `body` is
  // ignored and the server sends this body chunked, calling `stream` on the
  // db lane for each part. It replaces `chunk`'s content with the next part
  // and returns false after the last one. A failure midway closes the
  // connection (the status line has left already); the client sees a body
  // without its last chunk.
  std::function<bool(std::string& chunk)> stream;
  // Not an answer: run the handler again on the db lane (Request::on_io_thread).
  bool retry_on_database = false;

  static Response json(int status, const boost::json::value& body);
  static Response json_text(int status, std::string body);  // already JSON text
  static Response error(int status, std::string_view code, std::string_view message);
  static Response needs_database();
  void set_header(std::string name, std::string value);
  std::string_view header(std::string_view name) const;
};

bool iequals(std::string_view a, std::string_view b);

// The whole body of `response`, its stream's parts joined (for serving in
// process, where nothing is too large).
std::string whole_body(Response& response);

}  // namespace http
