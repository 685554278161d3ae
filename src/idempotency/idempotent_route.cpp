#include "idempotency/idempotent_route.hpp"

#include "core/api_error.hpp"
#include "core/random.hpp"
#include "core/utf8.hpp"

namespace idempotency {

namespace {

constexpr std::size_t kMaxKeyLength = 255;

// The canonical route and its parameters, not the path: a retry through an
// original-service alias is the same request.
std::string fingerprint_of(const http::Request& request) {
  std::string shape = request.method + " " + request.route;
  for (const auto& [name, value] : request.path_params) shape += " " + name + "=" + value;
  return core::base64url_encode(core::hmac_sha256("idempotency", shape + "\n" + request.body));
}

http::Response run_and_capture(const http::Handler& handler, http::Request& request) {
  try {
    return handler(request);
  } catch (const core::ApiError& error) {
    return http::error_response(error);
  }
}

}  // namespace

http::Handler idempotent(IdempotencyService& service, http::Handler handler) {
  return [&service, handler = std::move(handler)](http::Request& request) {
    const std::string key(request.header("Idempotency-Key"));
    if (key.empty()) return handler(request);
    if (key.size() > kMaxKeyLength) {
      throw core::validation_error("'Idempotency-Key' must be at most 255 characters.");
    }
    // The key is stored as text: PostgreSQL refuses bytes that are not UTF-8
    // (a 500 found by request_fuzz on PostgreSQL).
    if (!core::is_valid_utf8(key)) throw core::validation_error("'Idempotency-Key' must be UTF-8 text.");
    const auto& scope = request.user().user_id;
    const auto begun = service.begin(scope, key, fingerprint_of(request));
    switch (begun.start) {
      case Start::mismatch:
        throw core::ApiError(422, "idempotency_key_mismatch",
                             "This Idempotency-Key was used with a different request.");
      case Start::in_progress:
        throw core::ApiError(409, "idempotency_in_progress",
                             "A request with this Idempotency-Key is still running.");
      case Start::replay: {
        http::Response replay;
        replay.status = begun.status;
        replay.body = begun.body;
        replay.set_header("Content-Type", "application/json; charset=utf-8");
        replay.set_header("Idempotency-Replayed", "true");
        return replay;
      }
      case Start::run: break;
    }
    http::Response response;
    try {
      response = run_and_capture(handler, request);
    } catch (...) {
      service.forget(scope, key);
      throw;
    }
    if (response.status >= 500) service.forget(scope, key);
    else service.finish(scope, key, response.status, response.body);
    return response;
  };
}

}  // namespace idempotency
