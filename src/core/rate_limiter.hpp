#pragma once
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/config.hpp"

namespace core {

// Fixed-window counters per key (e.g. "login|203.0.113.7"), in memory of one
// instance: cheap enough for every unauthenticated auth request. Limits that
// must hold across instances (OTP tries, account lockout) live in the database.
class RateLimiter {
 public:
  explicit RateLimiter(RateLimit limit) : limit_(limit) {}

  // Counts one hit; returns the seconds to wait when over the limit.
  std::optional<std::int64_t> hit(const std::string& key, std::int64_t now_ms);

 private:
  struct Window {
    std::int64_t started_ms = 0;
    int count = 0;
  };
  void forget_old_windows(std::int64_t now_ms);

  RateLimit limit_;
  std::mutex mutex_;
  std::unordered_map<std::string, Window> windows_;
  std::int64_t last_cleanup_ms_ = 0;
};

}  // namespace core
