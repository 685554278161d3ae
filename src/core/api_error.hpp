#pragma once
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace core {

// An error a client is meant to see: HTTP status, snake_case code, sentence.
// Thrown from services and routes; the router turns it into the JSON body of
// docs/API.md (Errors). Anything else that escapes becomes a 500 with no details.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, const std::string& message)
      : std::runtime_error(message), status_(status), code_(std::move(code)) {}

  ApiError& with_header(std::string name, std::string value) {
    headers_.emplace_back(std::move(name), std::move(value));
    return *this;
  }

  int status() const { return status_; }
  const std::string& code() const { return code_; }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }

 private:
  int status_;
  std::string code_;
  std::vector<std::pair<std::string, std::string>> headers_;
};

inline ApiError validation_error(const std::string& message) {
  return ApiError(400, "validation_error", message);
}

inline ApiError too_many_requests(const std::string& code, const std::string& message,
                                  long long retry_after_seconds) {
  ApiError error(429, code, message);
  error.with_header("Retry-After", std::to_string(retry_after_seconds < 1 ? 1 : retry_after_seconds));
  return error;
}

}  // namespace core
