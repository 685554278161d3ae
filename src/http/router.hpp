#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/api_error.hpp"
#include "http/message.hpp"

namespace http {

// Where a handler runs. Handlers are plain blocking functions; the server
// moves them off the io threads: `db` for reads, `write` for handlers whose
// work is a write (many threads, mostly waiting for a shared commit), `cpu`
// for password hashing (a small bounded pool), `io` only for trivial,
// non-blocking answers such as /healthz.
enum class Lane { io, db, write, cpu };

enum class Access { anyone, user, admin };

using Handler = std::function<Response(Request&)>;
// Checks the token and the session; throws core::ApiError (401) when invalid.
using Authenticator = std::function<Principal(const Request&)>;
// Picks the lane per request, for routes that can often answer from memory
// (io) but sometimes need the database (db).
using LaneChooser = std::function<Lane(const Request&)>;

struct Route {
  std::string method;
  std::string pattern;  // "/api/admin/rewards/{reward_id}/credit"
  std::string name;     // the canonical pattern: the metrics label, shared by aliases
  Access access = Access::anyone;
  Lane lane = Lane::db;
  Handler handler;
  bool is_alias = false;
  std::vector<std::string> segments;
  LaneChooser choose_lane;  // when set, decides instead of `lane`
};

struct RouteMatch {
  const Route* route = nullptr;  // null: no route for this method
  std::string allow;             // when the path exists under other methods (405)
};

class Router {
 public:
  void add(std::string method, std::string pattern, Access access, Lane lane, Handler handler);
  void add(std::string method, std::string pattern, Access access, LaneChooser choose_lane, Handler handler);
  // Serves every method of `canonical` under `alias_pattern` too (the original's paths).
  void alias(const std::string& alias_pattern, const std::string& canonical,
             const std::string& only_method = "");
  void set_authenticator(Authenticator authenticator) { authenticator_ = std::move(authenticator); }

  RouteMatch match(Request& request) const;  // fills request.path_params
  // Authenticates as the route demands, runs it, and maps errors to the
  // error bodies of docs/API.md. Never throws.
  Response run(const Route& route, Request& request) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
  Authenticator authenticator_;
};

std::vector<std::string> split_path(std::string_view path);

// The docs/API.md error body for an ApiError, with its headers (e.g. Retry-After).
Response error_response(const core::ApiError& error);

}  // namespace http
