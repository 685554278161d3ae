#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/api_error.hpp"
#include "db/pipelined_connection.hpp"
#include "http/message.hpp"

namespace http {

// Where a handler runs. Handlers are plain blocking functions; the server
// moves them off the io threads: `db` for reads, `write` for handlers whose
// work is a write (many threads, mostly waiting for a shared commit), `cpu`
// for password hashing (a small bounded pool), `io` only for trivial,
// non-blocking answers such as /healthz.
enum class Lane { io, db, write, cpu };

// `key`: an API key holding the route's scope, never a login token;
// `admin_or_key`: an admin's token, or an API key holding the scope.
enum class Access { anyone, user, admin, key, admin_or_key };

// Who may call a route. An `Access` converts to it (the token kinds need no
// scope), so `Access::admin` reads as before; keys name the scope they need:
//   router.add("POST", "/api/admin/webhooks", http::Auth::admin_or_key("webhooks:manage"), ...)
struct Auth {
  Access access = Access::anyone;
  std::string scope;  // the API key scope a key must hold (key, admin_or_key)

  Auth(Access token_access) : access(token_access) {}  // NOLINT(google-explicit-constructor)
  static Auth key(std::string scope) { return Auth(Access::key, std::move(scope)); }
  static Auth admin_or_key(std::string scope) {
    return Auth(Access::admin_or_key, std::move(scope));
  }

 private:
  Auth(Access key_access, std::string key_scope)
      : access(key_access), scope(std::move(key_scope)) {}
};

using Handler = std::function<Response(Request&)>;
// Checks the token and the session; throws core::ApiError (401) when invalid.
using Authenticator = std::function<Principal(const Request&)>;
// Checks the token alone (its signature and expiry), from memory; throws
// core::ApiError (401) when invalid.
using TokenCheck = std::function<void(const Request&)>;
// Checks the API key of Request::api_key() and that it holds `scope`; throws
// core::ApiError (401 invalid_api_key, 403 insufficient_scope).
using KeyAuthenticator = std::function<Principal(const Request&, const std::string& scope)>;
// Picks the lane per request, for routes that can often answer from memory
// (io) but sometimes need the database (db).
using LaneChooser = std::function<Lane(const Request&)>;

// A route's one read, sent on its io thread's pipelined PostgreSQL
// connection instead of taking a db-lane thread (docs/ARCHITECTURE.md,
// "Pipelined reads"): the statement, and how its rows become the answer.
struct PipelinedRead {
  db::PipelinedQuery query;
  std::function<Response(const db::ResultRows&)> answer;
};
// Plans the read on the io thread, from memory only (Request::on_io_thread);
// nullopt sends the request to the route's handler on the db lane.
using ReadPlanner = std::function<std::optional<PipelinedRead>(Request&)>;

// Thrown by an authenticator on an io thread when only the database can
// tell (e.g. a session not in the session cache): the db lane's turn.
struct NeedsDatabase {};

// What Router::plan decided: an answer (e.g. 401), a read, or neither (run
// the handler on the db lane).
struct Planned {
  std::optional<Response> answer;
  std::optional<PipelinedRead> read;
};

struct Route {
  std::string method;
  std::string pattern;  // "/api/admin/rewards/{reward_id}/credit"
  std::string name;     // the canonical pattern: the metrics label, shared by aliases
  Access access = Access::anyone;
  std::string scope;  // for Access::key and Access::admin_or_key
  Lane lane = Lane::db;
  Handler handler;
  bool is_alias = false;
  std::vector<std::string> segments;
  LaneChooser choose_lane;  // when set, decides instead of `lane`
  ReadPlanner plan_read;    // when set, tried before the handler (PostgreSQL)
};

struct RouteMatch {
  const Route* route = nullptr;  // null: no route for this method
  std::string allow;             // when the path exists under other methods (405)
};

class Router {
 public:
  void add(std::string method, std::string pattern, Auth auth, Lane lane, Handler handler);
  void add(std::string method, std::string pattern, Auth auth, LaneChooser choose_lane,
           Handler handler);
  // A db-lane route whose read can also go through the pipelined connection.
  void add(std::string method, std::string pattern, Auth auth, Handler handler,
           ReadPlanner plan_read);
  // Serves every method of `canonical` under `alias_pattern` too (the original's paths).
  void alias(const std::string& alias_pattern, const std::string& canonical,
             const std::string& only_method = "");
  void set_authenticator(Authenticator authenticator) { authenticator_ = std::move(authenticator); }
  void set_key_authenticator(KeyAuthenticator authenticator) {
    key_authenticator_ = std::move(authenticator);
  }
  void set_token_check(TokenCheck check) { token_check_ = std::move(check); }

  RouteMatch match(Request& request) const;  // fills request.path_params
  // Authenticates as the route demands, runs it, and maps errors to the
  // error bodies of docs/API.md. Never throws.
  Response run(const Route& route, Request& request) const;
  // On an io thread, before a lane: the refusal of a token route's request
  // whose token is missing, forged or expired, so that such requests take
  // no lane thread (a flood of them cannot fill a lane). nullopt: the lane's
  // turn. Never throws.
  std::optional<Response> refuse_bad_token(const Route& route, const Request& request) const;
  // On an io thread, for a route with plan_read: authenticates from memory
  // and plans its read. Never throws.
  Planned plan(const Route& route, Request& request) const;
  // The planned read's answer from its rows; errors map as in run.
  Response answer(const Route& route, const Request& request, const PipelinedRead& read,
                  const db::ResultRows& rows) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  Principal authenticate(const Route& route, const Request& request) const;

  std::vector<Route> routes_;
  Authenticator authenticator_;
  KeyAuthenticator key_authenticator_;
  TokenCheck token_check_;
};

std::vector<std::string> split_path(std::string_view path);

// The docs/API.md error body for an ApiError, with its headers (e.g. Retry-After).
Response error_response(const core::ApiError& error);

}  // namespace http
