#include "http/router.hpp"

#include <stdexcept>

#include "core/api_error.hpp"
#include "core/log.hpp"

namespace http {

std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  std::size_t start = 0;
  while (start < path.size()) {
    if (path[start] == '/') {
      ++start;
      continue;
    }
    const auto slash = path.find('/', start);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    segments.emplace_back(path.substr(start, end - start));
    start = end;
  }
  return segments;
}

namespace {

bool is_param(const std::string& segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

bool matches(const Route& route, const std::vector<std::string>& segments,
             std::map<std::string, std::string>* params) {
  if (route.segments.size() != segments.size()) return false;
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const auto& want = route.segments[i];
    if (is_param(want)) {
      if (params) (*params)[want.substr(1, want.size() - 2)] = segments[i];
    } else if (want != segments[i]) {
      return false;
    }
  }
  return true;
}

bool takes_a_key(const Route& route, const Request& request) {
  return route.access == Access::key || (route.access == Access::admin_or_key && request.api_key());
}

}  // namespace

void Router::add(std::string method, std::string pattern, Auth auth, Lane lane, Handler handler) {
  Route route{std::move(method),
              pattern,
              pattern,
              auth.access,
              std::move(auth.scope),
              lane,
              std::move(handler),
              false,
              split_path(pattern),
              {},
              {}};
  routes_.push_back(std::move(route));
}

void Router::add(std::string method, std::string pattern, Auth auth, LaneChooser choose_lane,
                 Handler handler) {
  add(std::move(method), std::move(pattern), std::move(auth), Lane::db, std::move(handler));
  routes_.back().choose_lane = std::move(choose_lane);
}

void Router::add(std::string method, std::string pattern, Auth auth, Handler handler,
                 ReadPlanner plan_read) {
  // Router::plan runs on an io thread: the key authenticator reads the
  // database, the token one can answer from the session cache.
  if (auth.access == Access::key || auth.access == Access::admin_or_key) {
    throw std::logic_error("a pipelined read needs token authentication: " + pattern);
  }
  add(std::move(method), std::move(pattern), std::move(auth), Lane::db, std::move(handler));
  routes_.back().plan_read = std::move(plan_read);
}

void Router::alias(const std::string& alias_pattern, const std::string& canonical,
                   const std::string& only_method) {
  std::vector<Route> copies;
  for (const auto& route : routes_) {
    if (route.pattern != canonical || route.is_alias) continue;
    if (!only_method.empty() && route.method != only_method) continue;
    Route copy = route;
    copy.pattern = alias_pattern;
    copy.segments = split_path(alias_pattern);
    copy.is_alias = true;
    copies.push_back(std::move(copy));
  }
  if (copies.empty()) throw std::logic_error("alias of unknown route " + canonical);
  for (auto& copy : copies) routes_.push_back(std::move(copy));
}

RouteMatch Router::match(Request& request) const {
  const auto segments = split_path(request.path);
  RouteMatch result;
  for (const auto& route : routes_) {
    if (!matches(route, segments, nullptr)) continue;
    if (route.method == request.method) {
      matches(route, segments, &request.path_params);
      result.route = &route;
      return result;
    }
    if (result.allow.find(route.method) == std::string::npos) {
      result.allow += result.allow.empty() ? route.method : ", " + route.method;
    }
  }
  if (!result.allow.empty()) result.allow += ", OPTIONS";
  return result;
}

Response error_response(const core::ApiError& error) {
  auto response = Response::error(error.status(), error.code(), error.what());
  for (const auto& [name, value] : error.headers()) response.set_header(name, value);
  return response;
}

// Keys and tokens never cross: a key route asks only the key authenticator
// (a token there is no key: 401), a token route only the token one (an
// `rk_` bearer is no valid token: 401). admin_or_key picks by what was sent.
Principal Router::authenticate(const Route& route, const Request& request) const {
  if (takes_a_key(route, request)) return key_authenticator_(request, route.scope);
  auto principal = authenticator_(request);
  if (route.access != Access::user && !principal.is_admin) {
    throw core::ApiError(403, "forbidden", "This action requires an administrator.");
  }
  return principal;
}

std::optional<Response> Router::refuse_bad_token(const Route& route, const Request& request) const {
  if (!token_check_ || route.access == Access::anyone || takes_a_key(route, request))
    return std::nullopt;
  try {
    token_check_(request);
  } catch (const core::ApiError& error) {
    return error_response(error);
  } catch (const std::exception&) {
    // Not the token's fault: the lane's authentication answers.
  }
  return std::nullopt;
}

namespace {

// The docs/API.md error answer for the exception being handled.
Response failure_response(const Route& route, const Request& request) {
  try {
    throw;
  } catch (const core::ApiError& error) {
    return error_response(error);
  } catch (const std::exception& error) {
    core::log::event("error", {{"msg", "unhandled error"}, {"route", route.name},
                               {"request_id", request.request_id}, {"detail", error.what()}});
    return Response::error(500, "internal_error", "Something went wrong on our side.");
  }
}

}  // namespace

Response Router::run(const Route& route, Request& request) const {
  request.route = route.name;
  try {
    if (route.access != Access::anyone) request.principal = authenticate(route, request);
    return route.handler(request);
  } catch (const std::exception&) {
    return failure_response(route, request);
  }
}

Planned Router::plan(const Route& route, Request& request) const {
  request.route = route.name;
  Planned planned;
  try {
    if (route.access != Access::anyone) request.principal = authenticate(route, request);
    planned.read = route.plan_read(request);
  } catch (const NeedsDatabase&) {
    return {};
  } catch (const std::exception&) {
    planned.answer = failure_response(route, request);
  }
  return planned;
}

Response Router::answer(const Route& route, const Request& request, const PipelinedRead& read,
                        const db::ResultRows& rows) const {
  try {
    return read.answer(rows);
  } catch (const std::exception&) {
    return failure_response(route, request);
  }
}

}  // namespace http
