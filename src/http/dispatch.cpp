#include "http/dispatch.hpp"

namespace http {

namespace {

bool is_json_media_type(std::string_view content_type) {
  const auto semi = content_type.find(';');
  auto type = content_type.substr(0, semi);
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return iequals(type, "application/json") ||
         (type.size() > 5 && iequals(type.substr(type.size() - 5), "+json"));
}

bool has_unsupported_body(const Request& request) {
  return !request.body.empty() && !is_json_media_type(request.header("Content-Type"));
}

}  // namespace

Routed route_request(const Router& router, Request& request, const MiddlewareConfig& config) {
  Routed routed;
  if (auto preflight = cors_preflight(request, config)) {
    routed.name = "preflight";
    routed.answer = std::move(*preflight);
    return routed;
  }
  const auto match = router.match(request);
  if (match.route == nullptr) {
    if (match.allow.empty()) {
      routed.answer = Response::error(404, "not_found", "No such resource.");
    } else {
      routed.answer = Response::error(405, "method_not_allowed", "This method is not allowed here.");
      routed.answer->set_header("Allow", match.allow);
    }
    return routed;
  }
  routed.name = match.route->name;
  if (has_unsupported_body(request)) {
    routed.answer = Response::error(415, "unsupported_media_type", "Send the body as application/json.");
    return routed;
  }
  routed.route = match.route;
  return routed;
}

Response handle_in_process(const Router& router, Request& request, const MiddlewareConfig& config) {
  auto routed = route_request(router, request, config);
  if (!routed.answer) routed.answer = router.refuse_bad_token(*routed.route, request);
  Response response = routed.answer ? std::move(*routed.answer) : router.run(*routed.route, request);
  finish_response(response, request, config);
  response.body = whole_body(response);
  response.stream = nullptr;
  return response;
}

}  // namespace http
