#include "mail/outbox_store.hpp"

#include <soci/soci.h>

#include "db/counter_store.hpp"
#include "db/statements.hpp"

namespace mail::store {

namespace {

// PostgreSQL: several servers claim at once; SKIP LOCKED lets each take rows
// the others have not locked. The CTE pins the LIMIT to one evaluation (an
// IN (subquery) may be re-run by the planner and claim more than `limit`).
constexpr const char* kClaimPostgres =
    "WITH due AS ("
    " SELECT id FROM outbox"
    " WHERE (status = 'queued' AND next_attempt_at <= :now)"
    " OR (status = 'sending' AND claimed_until < :expired)"
    " ORDER BY next_attempt_at LIMIT :limit FOR UPDATE SKIP LOCKED)"
    " UPDATE outbox SET status = 'sending', claimed_until = :until"
    " FROM due WHERE outbox.id = due.id"
    " RETURNING outbox.id, outbox.recipient, outbox.payload, outbox.attempts";

// SQLite: one writer at a time, so select-and-update in one statement is atomic.
constexpr const char* kClaimSqlite =
    "UPDATE outbox SET status = 'sending', claimed_until = :until"
    " WHERE id IN (SELECT id FROM outbox"
    " WHERE (status = 'queued' AND next_attempt_at <= :now)"
    " OR (status = 'sending' AND claimed_until < :expired)"
    " ORDER BY next_attempt_at LIMIT :limit)"
    " RETURNING id, recipient, payload, attempts";

// Runs a fenced UPDATE; true when it changed the claimed row. `uses` bind
// the placeholders of `set_clause`, in order.
template <class... Uses>
bool update_claimed(soci::session& sql, const std::string& set_clause, const Claimed& message,
                    Uses&&... uses) {
  long long lease = message.lease_until;
  auto prepared = (sql.prepare << "UPDATE outbox SET " + set_clause +
                                      " WHERE id = :id AND status = 'sending'"
                                      " AND claimed_until = :lease");
  ((prepared, std::forward<Uses>(uses)), ...);
  prepared, soci::use(message.id), soci::use(lease);
  soci::statement statement(prepared);
  statement.execute(true);
  return statement.get_affected_rows() > 0;
}

// Emails queued or being sent (db/counter_store.hpp): the outbox_depth
// gauge, without counting the outbox per scrape.
struct OutboxCounters {
  static constexpr const char* table = "outbox_counters";
};

// A claimed message left the depth (sent or given up on) when `left`.
bool leaves_depth(soci::session& sql, const Claimed& message, bool left) {
  if (left) db::counters::add<OutboxCounters>(sql, "depth", message.id, -1);
  return left;
}

}  // namespace

void insert(soci::session& sql, const NewMessage& message) {
  long long now = message.now_ms;
  sql << "INSERT INTO outbox (id, recipient, payload, status, attempts, next_attempt_at,"
         " claimed_until, created_at)"
         " VALUES (:id, :recipient, :payload, 'queued', 0, :next, 0, :created)",
      soci::use(message.id), soci::use(message.recipient), soci::use(message.payload),
      soci::use(now), soci::use(now);
  db::counters::add<OutboxCounters>(sql, "depth", message.id, 1);
}

std::vector<Claimed> claim_due(soci::session& sql, std::int64_t now_ms, std::int64_t lease_ms,
                               int limit) {
  long long now = now_ms;
  long long until = now_ms + lease_ms;
  // A vector `into` fetches at most its size, and the LIMIT returns at most
  // `limit` rows. One spare slot: SOCI does not fetch into one-element vectors
  // as it does into longer ones (a claim of one message came back empty).
  const auto rows = static_cast<std::size_t>(limit) + 1;
  std::vector<std::string> ids(rows), recipients(rows), payloads(rows);
  std::vector<int> attempts(rows);
  if (db::is_postgresql(sql)) {
    sql << kClaimPostgres, soci::use(now), soci::use(now), soci::use(limit), soci::use(until),
        soci::into(ids), soci::into(recipients), soci::into(payloads), soci::into(attempts);
  } else {
    sql << kClaimSqlite, soci::use(until), soci::use(now), soci::use(now), soci::use(limit),
        soci::into(ids), soci::into(recipients), soci::into(payloads), soci::into(attempts);
  }
  std::vector<Claimed> claimed;
  claimed.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    claimed.push_back({ids[i], recipients[i], payloads[i], attempts[i], until});
  }
  return claimed;
}

bool mark_sent(soci::session& sql, const Claimed& message, std::int64_t now_ms) {
  long long now = now_ms;
  return leaves_depth(sql, message,
                      update_claimed(sql, "status = 'sent', sent_at = :now, claimed_until = 0",
                                     message, soci::use(now)));
}

bool schedule_retry(soci::session& sql, const Claimed& message, std::int64_t next_attempt_at_ms,
                    const std::string& error) {
  long long next = next_attempt_at_ms;
  return update_claimed(sql,
                        "status = 'queued', attempts = attempts + 1, next_attempt_at = :next,"
                        " claimed_until = 0, last_error = :error",
                        message, soci::use(next), soci::use(error));
}

bool mark_failed(soci::session& sql, const Claimed& message, const std::string& error) {
  return leaves_depth(
      sql, message,
      update_claimed(
          sql, "status = 'failed', attempts = attempts + 1, claimed_until = 0, last_error = :error",
          message, soci::use(error)));
}

long long depth(soci::session& sql) {
  return db::counters::value_of(db::counters::read<OutboxCounters>(sql), "depth");
}

long long purge_sent(soci::session& sql, std::int64_t cutoff_ms, int limit) {
  long long cutoff = cutoff_ms;
  soci::statement statement =
      (sql.prepare << "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox"
                      " WHERE status = 'sent' AND sent_at < :cutoff LIMIT :limit)",
       soci::use(cutoff), soci::use(limit));
  statement.execute(true);
  return statement.get_affected_rows();
}

}  // namespace mail::store
