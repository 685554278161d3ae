#include "http/middleware.hpp"

#include <algorithm>
#include <boost/json/object.hpp>
#include <cctype>

#include "core/log.hpp"
#include "core/random.hpp"
#include "core/text.hpp"

namespace http {

namespace {

bool contains(const std::vector<std::string>& list, std::string_view item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

bool is_trusted(const std::vector<core::IpNetwork>& trusted_proxies, std::string_view address) {
  return std::any_of(
      trusted_proxies.begin(), trusted_proxies.end(),
      [address](const core::IpNetwork& network) { return network.contains(address); });
}

bool origin_allowed(std::string_view origin, const MiddlewareConfig& config) {
  return !origin.empty() && contains(config.cors_allowed_origins, origin);
}

}  // namespace

std::string resolve_client_ip(const std::string& peer, std::string_view forwarded_for,
                              const std::vector<core::IpNetwork>& trusted_proxies) {
  if (!is_trusted(trusted_proxies, peer) || forwarded_for.empty()) return peer;
  std::string client = peer;
  while (!forwarded_for.empty()) {
    const auto comma = forwarded_for.rfind(',');
    const auto hop = core::trim_view(comma == std::string_view::npos ? forwarded_for : forwarded_for.substr(comma + 1));
    forwarded_for = comma == std::string_view::npos ? std::string_view{} : forwarded_for.substr(0, comma);
    if (hop.empty()) continue;
    // The client IP is stored with sessions and referrals, so a hop that is
    // no address (a proxy passing on what a client wrote) must not become it.
    if (!core::is_ip_address(hop)) break;
    client = std::string(hop);
    if (!is_trusted(trusted_proxies, hop)) break;
  }
  return client;
}

// A request id names a request in the log; it grants nothing, so it comes
// from the per-thread generator: new_id()'s getrandom() was one syscall on
// every request (strace -c: one per /healthz, the route that does least).
std::string request_id_for(std::string_view incoming) {
  const bool sane = !incoming.empty() && incoming.size() <= 128 &&
                    std::all_of(incoming.begin(), incoming.end(), [](unsigned char c) {
                      return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':';
                    });
  if (sane) return std::string(incoming);
  const auto id = core::new_unique_id();
  return std::string(id.data(), id.size());
}

std::optional<Response> cors_preflight(const Request& request, const MiddlewareConfig& config) {
  if (request.method != "OPTIONS" || request.header("Access-Control-Request-Method").empty()) {
    return std::nullopt;
  }
  Response response;
  response.status = 204;
  const auto origin = request.header("Origin");
  if (origin_allowed(origin, config)) {
    response.set_header("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS");
    const auto wanted = request.header("Access-Control-Request-Headers");
    response.set_header("Access-Control-Allow-Headers",
                        wanted.empty() ? "Authorization, Content-Type, Idempotency-Key, X-Request-Id"
                                       : std::string(wanted));
    response.set_header("Access-Control-Max-Age", "600");
  }
  return response;
}

void finish_response(Response& response, const Request& request, const MiddlewareConfig& config) {
  response.set_header("X-Request-Id", request.request_id);
  response.set_header("X-Content-Type-Options", "nosniff");
  if (response.header("Cache-Control").empty()) response.set_header("Cache-Control", "no-store");
  const auto origin = request.header("Origin");
  if (origin_allowed(origin, config)) {
    response.set_header("Access-Control-Allow-Origin", std::string(origin));
    response.set_header("Access-Control-Allow-Credentials", "true");
    response.set_header("Access-Control-Expose-Headers", "Link, Retry-After, X-Request-Id, Idempotency-Replayed");
    response.set_header("Vary", "Origin");
  }
}

void log_access(const Request& request, const AccessRoute& route, const Response& response,
                std::chrono::steady_clock::duration elapsed) {
  const double ms = std::chrono::duration<double, std::milli>(elapsed).count();
  boost::json::object line{{"msg", "request"},       {"method", request.method},
                           {"route", route.name},    {"answered_on", route.answered_on},
                           {"path", request.path},   {"status", response.status},
                           {"duration_ms", ms},      {"request_id", request.request_id},
                           {"ip", request.client_ip}};
  if (!response.error_code.empty()) line["code"] = response.error_code;
  core::log::event("info", std::move(line));
}

}  // namespace http
