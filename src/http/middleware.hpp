#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/ip_network.hpp"
#include "http/message.hpp"

namespace http {

struct MiddlewareConfig {
  std::vector<std::string> cors_allowed_origins;
  std::vector<core::IpNetwork> trusted_proxies;
};

// The client's address: the peer, or, when the peer is a trusted proxy, the
// right-most X-Forwarded-For entry that is not itself a trusted proxy.
// `forwarded_for` is every X-Forwarded-For line of the request, joined.
std::string resolve_client_ip(const std::string& peer, std::string_view forwarded_for,
                              const std::vector<core::IpNetwork>& trusted_proxies);

// Echoes a sane incoming X-Request-Id, otherwise makes a new one.
std::string request_id_for(std::string_view incoming);

// A CORS preflight answer (204) for allowed origins; nullopt when the request
// is not a preflight.
std::optional<Response> cors_preflight(const Request& request, const MiddlewareConfig& config);

// Headers every answer carries: request id, nosniff, no-store, CORS.
void finish_response(Response& response, const Request& request, const MiddlewareConfig& config);

// The route's canonical pattern, and where it was answered (`"io"`,
// `"pipelined"`, or a lane: `"db"`, `"write"`, `"cpu"`).
struct AccessRoute {
  const std::string& name;
  const char* answered_on;
};
void log_access(const Request& request, const AccessRoute& route, const Response& response,
                std::chrono::steady_clock::duration elapsed);

}  // namespace http
