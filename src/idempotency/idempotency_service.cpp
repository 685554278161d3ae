#include "idempotency/idempotency_service.hpp"

#include "core/clock.hpp"
#include "idempotency/idempotency_store.hpp"

namespace idempotency {

namespace {
constexpr long long kKeepMs = 24 * core::kMsPerHour;
// A first request still 'running' after this long died mid-way.
constexpr long long kAbandonedAfterMs = 5 * core::kMsPerMinute;
}  // namespace

Begin IdempotencyService::begin(const std::string& scope, const std::string& key,
                                const std::string& fingerprint) {
  return database_.write([&](soci::session& sql) -> Begin {
    const auto now = core::now_ms();
    if (store::claim(sql, scope, key, fingerprint, now, now + kKeepMs)) return {};
    const auto entry = store::find(sql, scope, key);
    const bool stale = entry->expires_at < now ||
                       (entry->state == "running" && now - entry->created_at > kAbandonedAfterMs);
    if (stale) {
      store::restart(sql, scope, key, fingerprint, now, now + kKeepMs);
      return {};
    }
    if (entry->fingerprint != fingerprint) return {Start::mismatch, 0, ""};
    if (entry->state == "running") return {Start::in_progress, 0, ""};
    return {Start::replay, entry->response_status, entry->response_body};
  });
}

void IdempotencyService::finish(const std::string& scope, const std::string& key, int status,
                                const std::string& body) {
  database_.write([&](soci::session& sql) { store::finish(sql, scope, key, status, body); });
}

void IdempotencyService::forget(const std::string& scope, const std::string& key) {
  database_.write([&](soci::session& sql) { store::forget(sql, scope, key); });
}

}  // namespace idempotency
