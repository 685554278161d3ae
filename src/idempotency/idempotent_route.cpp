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

// Thrown out of the key's transaction to roll it back when the answer is a
// 5xx: that answer is not kept, and a retry runs again.
struct NotKept {};

http::Response replay_of(const Answer& answer) {
  http::Response replay;
  replay.status = answer.status;
  replay.body = answer.body;
  replay.set_header("Content-Type", "application/json; charset=utf-8");
  replay.set_header("Idempotency-Replayed", "true");
  return replay;
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
    if (!core::is_valid_utf8(key))
      throw core::validation_error("'Idempotency-Key' must be UTF-8 text.");
    http::Response response;
    Outcome outcome;
    try {
      outcome = service.once(request.user().user_id, key, fingerprint_of(request), [&] {
        response = run_and_capture(handler, request);
        if (response.status >= 500) throw NotKept{};
        return Answer{response.status, response.body};
      });
    } catch (const NotKept&) {
      return response;
    }
    switch (outcome.start) {
      case Start::mismatch:
        throw core::ApiError(422, "idempotency_key_mismatch",
                             "This Idempotency-Key was used with a different request.");
      case Start::replay:
        return replay_of(outcome.answer);
      case Start::run:
        break;
    }
    return response;
  };
}

}  // namespace idempotency
