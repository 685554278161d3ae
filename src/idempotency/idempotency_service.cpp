#include "idempotency/idempotency_service.hpp"

#include <stdexcept>

#include "core/clock.hpp"
#include "idempotency/idempotency_store.hpp"

namespace idempotency {

namespace {
constexpr long long kKeepMs = 24 * core::kMsPerHour;

Outcome outcome_of(const store::Entry& entry, const std::string& fingerprint) {
  if (entry.fingerprint != fingerprint) return {Start::mismatch, {}};
  return {Start::replay, {entry.response_status, entry.response_body}};
}
}  // namespace

Outcome IdempotencyService::once(const std::string& scope, const std::string& key,
                                 const std::string& fingerprint,
                                 const std::function<Answer()>& work) {
  return database_.write([&](soci::session& sql) -> Outcome {
    const auto now = core::now_ms();
    if (store::claim(sql, scope, key, fingerprint, now, now + kKeepMs)) {
      const auto answer = work();
      store::finish(sql, scope, key, answer.status, answer.body);
      return {Start::run, answer};
    }
    // The claim met a live row and, on PostgreSQL, locked it (ON CONFLICT
    // DO UPDATE locks the row even when its WHERE leaves it alone), so no
    // purge can delete it before this read.
    const auto entry = store::find(sql, scope, key);
    if (!entry) throw std::logic_error("an idempotency key met on claim was gone when read");
    return outcome_of(*entry, fingerprint);
  });
}

}  // namespace idempotency
