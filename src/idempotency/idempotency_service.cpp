#include "idempotency/idempotency_service.hpp"

#include "core/clock.hpp"
#include "idempotency/idempotency_store.hpp"

namespace idempotency {

namespace {
constexpr long long kKeepMs = 24 * core::kMsPerHour;
// A first request still 'running' after this long died mid-way.
constexpr long long kAbandonedAfterMs = 5 * core::kMsPerMinute;
constexpr int kClaimAttempts = 3;

// The answer for a key whose row exists: stale (taken over), another
// request's, still running, or done (replayed).
Begin begin_with(soci::session& sql, const store::Entry& entry, const std::string& scope,
                 const std::string& key, const std::string& fingerprint, long long now) {
  const bool stale = entry.expires_at < now ||
                     (entry.state == "running" && now - entry.created_at > kAbandonedAfterMs);
  if (stale) {
    store::restart(sql, scope, key, fingerprint, now, now + kKeepMs);
    return {};
  }
  if (entry.fingerprint != fingerprint) return {Start::mismatch, 0, ""};
  if (entry.state == "running") return {Start::in_progress, 0, ""};
  return {Start::replay, entry.response_status, entry.response_body};
}
}  // namespace

Begin IdempotencyService::begin(const std::string& scope, const std::string& key,
                                const std::string& fingerprint) {
  return database_.write([&](soci::session& sql) -> Begin {
    const auto now = core::now_ms();
    for (int attempt = 1;; ++attempt) {
      if (store::claim(sql, scope, key, fingerprint, now, now + kKeepMs)) return {};
      if (const auto entry = store::find(sql, scope, key))
        return begin_with(sql, *entry, scope, key, fingerprint, now);
      // The claim met a row that was gone by the time we read it: on
      // PostgreSQL the sweeper or a failed first request's forget() deleted
      // it in between (DO NOTHING takes no lock). Claim again; a row deleted
      // under us every time means a storm of failures on this one key.
      if (attempt == kClaimAttempts) return {Start::in_progress, 0, ""};
    }
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
