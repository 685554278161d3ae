#pragma once
#include <soci/session.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

// SQL for the `outbox` table. Row states: queued -> sending -> sent, or back
// to queued for a retry, or failed once the attempts are used up. A row stays
// 'sending' only while its lease (claimed_until) lasts: a sender that crashed
// mid-send leaves a row another sender reclaims when the lease has passed.
namespace mail::store {

struct NewMessage {
  std::string id;
  std::string recipient;
  std::string payload;
  std::int64_t now_ms = 0;
};

// A row claimed for sending. `lease_until` is the claim's fence: the outcome
// is recorded only while the row still carries it, so a sender whose lease
// ran out (and whose row another sender took over) records nothing.
struct Claimed {
  std::string id;
  std::string recipient;
  std::string payload;
  int attempts = 0;  // failed attempts before this one
  std::int64_t lease_until = 0;
};

void insert(soci::session& sql, const NewMessage& message);

// Marks up to `limit` due rows 'sending' until now + lease and returns them.
// Run it inside a write transaction.
std::vector<Claimed> claim_due(soci::session& sql, std::int64_t now_ms, std::int64_t lease_ms,
                               int limit);

// Each returns false when the claim was lost (the row is no longer ours).
bool mark_sent(soci::session& sql, const Claimed& message, std::int64_t now_ms);
bool schedule_retry(soci::session& sql, const Claimed& message, std::int64_t next_attempt_at_ms,
                    const std::string& error);
bool mark_failed(soci::session& sql, const Claimed& message, const std::string& error);

// Emails queued or being sent, from the counter that insert, mark_sent and
// mark_failed keep.
long long depth(soci::session& sql);

// Deletes up to `limit` rows sent before `cutoff_ms`; returns how many. Call
// again while it returns `limit`: small batches keep write locks short.
long long purge_sent(soci::session& sql, std::int64_t cutoff_ms, int limit);

}  // namespace mail::store
