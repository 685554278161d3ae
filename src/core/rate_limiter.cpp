#include "core/rate_limiter.hpp"

namespace core {

std::optional<std::int64_t> RateLimiter::hit(const std::string& key, std::int64_t now_ms) {
  if (limit_.count <= 0) return std::nullopt;
  std::lock_guard lock(mutex_);
  forget_old_windows(now_ms);
  auto& window = windows_[key];
  if (now_ms - window.started_ms >= limit_.window_ms) window = Window{now_ms, 0};
  if (++window.count <= limit_.count) return std::nullopt;
  return (window.started_ms + limit_.window_ms - now_ms + 999) / 1000;
}

void RateLimiter::forget_old_windows(std::int64_t now_ms) {
  if (now_ms - last_cleanup_ms_ < limit_.window_ms) return;
  last_cleanup_ms_ = now_ms;
  std::erase_if(windows_, [&](const auto& entry) {
    return now_ms - entry.second.started_ms >= limit_.window_ms;
  });
}

}  // namespace core
