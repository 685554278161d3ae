#pragma once
#include <optional>
#include <string>

#include "http/middleware.hpp"
#include "http/router.hpp"

namespace http {

// What happens to a parsed request before any handler runs: a CORS
// preflight, 404, 405 or 415 is answered at once; otherwise the matched
// route is to be run (by the server, on the route's lane).
struct Routed {
  std::string name = "unmatched";  // the metrics and access-log label
  const Route* route = nullptr;    // run this ...
  std::optional<Response> answer;  // ... or send this
};

Routed route_request(const Router& router, Request& request, const MiddlewareConfig& config);

// The server's path for one parsed request, with the handler run on the
// calling thread instead of its lane, and the answer finished with the
// headers every answer carries. The request fuzz target serves through it.
Response handle_in_process(const Router& router, Request& request, const MiddlewareConfig& config);

}  // namespace http
