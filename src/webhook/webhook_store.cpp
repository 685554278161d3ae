#include "webhook/webhook_store.hpp"

#include <soci/soci.h>

#include <limits>

#include "core/random.hpp"
#include "db/statements.hpp"
#include "webhook/delivery_status.hpp"

namespace webhook::store {

using soci::into;
using soci::use;

namespace {

const std::string kPendingSql = db::literal(delivery_status::kPending);

constexpr const char* kEndpointColumns =
    "SELECT id, url, events, description, enabled, disabled_reason, secret_sealed, "
    "previous_secret_sealed,"
    " previous_secret_until, failing_since, created_at FROM webhook_endpoints ";

constexpr const char* kDeliveryColumns =
    "SELECT id, event_id, event_type, status, attempts, last_status_code, last_error, "
    "next_attempt_at,"
    " delivered_at, created_at FROM webhook_deliveries ";

template <class T>
std::optional<T> optional_column(const soci::row& row, std::size_t column) {
  if (row.get_indicator(column) != soci::i_ok) return std::nullopt;
  return row.get<T>(column);
}

Endpoint endpoint_from(const soci::row& row) {
  return {row.get<std::string>(0), row.get<std::string>(1),
          row.get<std::string>(2), row.get<std::string>(3),
          row.get<int>(4) != 0,    optional_column<std::string>(row, 5),
          row.get<std::string>(6), optional_column<std::string>(row, 7),
          row.get<long long>(8),   row.get<long long>(9),
          row.get<long long>(10)};
}

Delivery delivery_from(const soci::row& row) {
  const auto delivered_at = optional_column<long long>(row, 8);
  return {row.get<std::string>(0),
          row.get<std::string>(1),
          row.get<std::string>(2),
          row.get<std::string>(3),
          row.get<int>(4),
          optional_column<int>(row, 5),
          optional_column<std::string>(row, 6),
          row.get<long long>(7),
          delivered_at ? std::optional<std::int64_t>(*delivered_at) : std::nullopt,
          row.get<long long>(9)};
}

// A NULL for "no HTTP answer" (status 0).
soci::indicator code_indicator(int status_code) {
  return status_code > 0 ? soci::i_ok : soci::i_null;
}

// Runs a fenced UPDATE of a claimed row; `uses` bind the placeholders of
// `set_clause`, in order.
template <class... Uses>
bool update_claimed(soci::session& sql, const std::string& set_clause, const Claimed& claimed,
                    Uses&&... uses) {
  long long lease = claimed.lease_until;
  return db::affected_rows(sql,
                           "UPDATE webhook_deliveries SET " + set_clause +
                               " WHERE id = :id AND status = " + kPendingSql +
                               " AND leased_until = :lease",
                           std::forward<Uses>(uses)..., use(claimed.id), use(lease)) > 0;
}

// The due rows of one endpoint, oldest due first. PostgreSQL: instances
// claim at once, and SKIP LOCKED lets each take rows the others have not
// locked. SQLite: the transaction already holds the one write lock (BEGIN
// IMMEDIATE). Rows are read one by one and then leased by id: UPDATE ...
// RETURNING read into SOCI vectors handed back rows that did not match what
// it had updated (leased rows no attempt was made for, on SQLite; empty
// rows on PostgreSQL), so this avoids it.
const std::string kDue =
    "SELECT id, event_id, payload, attempts FROM webhook_deliveries"
    " WHERE endpoint_id = :endpoint AND status = " +
    kPendingSql +
    " AND next_attempt_at <= :now AND "
    "leased_until < :now2"
    " ORDER BY next_attempt_at LIMIT :limit";

}  // namespace

void insert_endpoint(soci::session& sql, const Endpoint& e) {
  const int enabled = e.enabled ? 1 : 0;
  long long created_at = e.created_at;
  sql << "INSERT INTO webhook_endpoints (id, url, events, description, enabled, secret_sealed, "
         "created_at)"
         " VALUES (:id, :url, :events, :description, :enabled, :secret, :created_at)",
      use(e.id), use(e.url), use(e.events), use(e.description), use(enabled), use(e.secret_sealed),
      use(created_at);
}

std::optional<Endpoint> find_endpoint(soci::session& sql, const std::string& id) {
  auto found = db::select_all<Endpoint>(sql, std::string(kEndpointColumns) + "WHERE id = :id",
                                    endpoint_from, use(id));
  if (found.empty()) return std::nullopt;
  return std::move(found.front());
}

std::vector<Endpoint> list_endpoints(soci::session& sql) {
  return db::select_all<Endpoint>(sql, std::string(kEndpointColumns) + "ORDER BY created_at, id",
                              endpoint_from);
}

std::vector<Endpoint> enabled_endpoints(soci::session& sql) {
  return db::select_all<Endpoint>(
      sql, std::string(kEndpointColumns) + "WHERE enabled = 1 ORDER BY created_at, id",
      endpoint_from);
}

void update_endpoint(soci::session& sql, const Endpoint& e) {
  const int enabled = e.enabled ? 1 : 0;
  const std::string reason = e.disabled_reason.value_or("");
  auto reason_indicator = e.disabled_reason ? soci::i_ok : soci::i_null;
  long long failing_since = e.failing_since;
  sql << "UPDATE webhook_endpoints SET url = :url, events = :events, description = :description,"
         " enabled = :enabled, disabled_reason = :reason, failing_since = :failing_since WHERE id "
         "= :id",
      use(e.url), use(e.events), use(e.description), use(enabled), use(reason, reason_indicator),
      use(failing_since), use(e.id);
}

void update_secrets(soci::session& sql, const Endpoint& e) {
  const std::string previous = e.previous_secret_sealed.value_or("");
  auto previous_indicator = e.previous_secret_sealed ? soci::i_ok : soci::i_null;
  long long previous_until = e.previous_secret_until;
  sql << "UPDATE webhook_endpoints SET secret_sealed = :secret, previous_secret_sealed = :previous,"
         " previous_secret_until = :until WHERE id = :id",
      use(e.secret_sealed), use(previous, previous_indicator), use(previous_until), use(e.id);
}

bool delete_endpoint(soci::session& sql, const std::string& id) {
  // Deliveries first: SQLite enforces the ON DELETE CASCADE only with
  // foreign_keys on, and the rows are the endpoint's alone.
  sql << "DELETE FROM webhook_deliveries WHERE endpoint_id = :id", use(id);
  return db::affected_rows(sql, "DELETE FROM webhook_endpoints WHERE id = :id", use(id)) > 0;
}

void disable_endpoint(soci::session& sql, const std::string& id, const std::string& reason) {
  sql << "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = :reason WHERE id = :id",
      use(reason), use(id);
}

std::int64_t note_failure(soci::session& sql, const std::string& endpoint_id, std::int64_t now_ms) {
  long long now = now_ms;
  sql << "UPDATE webhook_endpoints SET failing_since = :now WHERE id = :id AND failing_since = 0",
      use(now), use(endpoint_id);
  long long since = now;
  sql << "SELECT failing_since FROM webhook_endpoints WHERE id = :id", use(endpoint_id),
      into(since);
  return since;
}

void note_success(soci::session& sql, const std::string& endpoint_id) {
  sql << "UPDATE webhook_endpoints SET failing_since = 0 WHERE id = :id AND failing_since <> 0",
      use(endpoint_id);
}

void insert_delivery(soci::session& sql, const NewDelivery& delivery) {
  std::vector<NewDelivery> rows{delivery};
  insert_deliveries(sql, rows);
}

// Bulk statements (vectors bound with `use`) are prepared once and stepped
// per row: the fan-out and the answers of a round are hundreds of rows, and
// preparing each one-shot statement anew was a visible part of the writer's
// time (perf: sqlite3Parser).
long long insert_deliveries(soci::session& sql, std::vector<NewDelivery>& rows) {
  if (rows.empty()) return 0;
  std::vector<std::string> ids, endpoints, events, types, payloads;
  std::vector<soci::indicator> payload_indicators;
  std::vector<long long> nows, leases;
  for (auto& row : rows) {
    row.id = core::new_id();
    ids.push_back(row.id);
    endpoints.push_back(row.endpoint_id);
    events.push_back(row.event_id);
    types.push_back(row.event_type);
    payloads.push_back(row.payload.value_or(""));
    payload_indicators.push_back(row.payload ? soci::i_ok : soci::i_null);
    nows.push_back(row.now_ms);
    leases.push_back(row.leased_until);
  }
  return db::affected_rows(
      sql,
      "INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, payload, status,"
      " attempts, next_attempt_at, leased_until, created_at)"
      " VALUES (:id, :endpoint, :event, :type, :payload, " +
          kPendingSql +
          ", 0, :next, :lease, :created)"
          " ON CONFLICT (endpoint_id, event_id) DO NOTHING",
      use(ids), use(endpoints), use(events), use(types), use(payloads, payload_indicators),
      use(nows), use(leases), use(nows));
}

std::vector<Delivery> list_deliveries(soci::session& sql, const DeliveryFilter& filter) {
  const int any_status = filter.status ? 0 : 1;
  const std::string status = filter.status.value_or("");
  long long after_time =
      filter.after ? filter.after->created_at : std::numeric_limits<long long>::max();
  const std::string after_id = filter.after ? filter.after->id : "";
  return db::select_all<Delivery>(
      sql,
      std::string(kDeliveryColumns) +
          "WHERE endpoint_id = :endpoint AND (1 = :any OR status = :status)"
          " AND (created_at < :after_time OR (created_at = :after_time2 AND id < :after_id))"
          " ORDER BY created_at DESC, id DESC LIMIT :limit",
      delivery_from, use(filter.endpoint_id), use(any_status), use(status), use(after_time),
      use(after_time), use(after_id), use(filter.limit));
}

bool retry_now(soci::session& sql, const std::string& endpoint_id, const std::string& delivery_id,
               std::int64_t now_ms) {
  long long now = now_ms;
  return db::affected_rows(sql,
                           "UPDATE webhook_deliveries SET status = " + kPendingSql +
                               ", next_attempt_at = :now"
                               " WHERE id = :id AND endpoint_id = :endpoint",
                           use(now), use(delivery_id), use(endpoint_id)) > 0;
}

std::vector<Claimed> claim_due(soci::session& sql, const std::string& endpoint_id,
                               std::int64_t now_ms, std::int64_t lease_ms, int limit) {
  long long now = now_ms;
  long long until = now_ms + lease_ms;
  const bool postgresql = db::is_postgresql(sql);
  std::vector<Claimed> claimed;
  {
    Claimed row{"", endpoint_id, "", "", 0, until};
    soci::indicator payload_indicator = soci::i_ok;
    soci::statement due =
        (sql.prepare << kDue + (postgresql ? " FOR UPDATE SKIP LOCKED" : ""), use(endpoint_id),
         use(now), use(now), use(limit), into(row.id), into(row.event_id),
         into(row.payload, payload_indicator), into(row.attempts));
    due.execute();
    while (due.fetch()) {
      claimed.push_back(row);
      if (payload_indicator != soci::i_ok) claimed.back().payload.clear();
    }
  }
  if (claimed.empty()) return claimed;
  std::vector<std::string> ids;
  for (const auto& row : claimed) ids.push_back(row.id);
  const std::vector<long long> untils(ids.size(), until);
  sql << "UPDATE webhook_deliveries SET leased_until = :until WHERE id = :id", use(untils),
      use(ids);
  return claimed;
}

long long mark_delivered(soci::session& sql, const std::vector<Answered>& answers,
                         std::int64_t now_ms) {
  if (answers.empty()) return 0;
  std::vector<std::string> ids;
  std::vector<long long> leases;
  std::vector<int> codes;
  for (const auto& answer : answers) {
    ids.push_back(answer.id);
    leases.push_back(answer.lease_until);
    codes.push_back(answer.status_code);
  }
  const std::vector<long long> nows(ids.size(), now_ms);
  return db::affected_rows(
      sql,
      "UPDATE webhook_deliveries SET status = " + db::literal(delivery_status::kDelivered) +
          ", attempts = attempts + 1,"
          " last_status_code = :code, last_error = NULL, delivered_at = :now, leased_until = 0"
          " WHERE id = :id AND status = " +
          kPendingSql + " AND leased_until = :lease",
      use(codes), use(nows), use(ids), use(leases));
}

bool schedule_retry(soci::session& sql, const Claimed& claimed, int status_code,
                    const std::string& error, std::int64_t next_attempt_at_ms) {
  long long next = next_attempt_at_ms;
  auto indicator = code_indicator(status_code);
  return update_claimed(sql,
                        "attempts = attempts + 1, last_status_code = :code, last_error = :error,"
                        " next_attempt_at = :next, leased_until = 0",
                        claimed, use(status_code, indicator), use(error), use(next));
}

bool mark_failed(soci::session& sql, const Claimed& claimed, int status_code,
                 const std::string& error) {
  auto indicator = code_indicator(status_code);
  return update_claimed(sql,
                        "status = " + db::literal(delivery_status::kFailed) +
                            ", attempts = attempts + 1, last_status_code = :code,"
                            " last_error = :error, leased_until = 0",
                        claimed, use(status_code, indicator), use(error));
}

bool release(soci::session& sql, const Claimed& claimed) {
  return update_claimed(sql, "leased_until = 0", claimed);
}

// Both read through webhook_deliveries_due, one seek per enabled endpoint
// (the endpoints are few; the pending rows may be many).
bool any_due(soci::session& sql, std::int64_t now_ms) {
  long long now = now_ms;
  int found = 0;
  sql << "SELECT COUNT(*) FROM webhook_endpoints e WHERE e.enabled = 1 AND EXISTS ("
         "SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = " +
             kPendingSql + " AND d.next_attempt_at <= :now AND d.leased_until < :now2)",
      use(now), use(now), into(found);
  return found > 0;
}

PendingStats pending_stats(soci::session& sql, std::int64_t now_ms) {
  PendingStats stats;
  long long oldest = 0;
  soci::indicator oldest_indicator = soci::i_null;
  // The oldest of an enabled endpoint only: a disabled endpoint's rows wait on purpose.
  sql << "SELECT CAST(COALESCE(SUM(pending), 0) AS BIGINT), MIN(CASE WHEN enabled = 1 THEN "
         "first_due END)"
         " FROM (SELECT e.enabled,"
         " (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = " +
             kPendingSql +
             ") AS pending,"
             " (SELECT MIN(d.next_attempt_at) FROM webhook_deliveries d"
             " WHERE d.endpoint_id = e.id AND d.status = " +
             kPendingSql +
             ") AS first_due"
             " FROM webhook_endpoints e) AS per_endpoint",
      into(stats.depth), into(oldest, oldest_indicator);
  if (oldest_indicator == soci::i_ok && oldest <= now_ms) stats.oldest_due_at = oldest;
  return stats;
}

}  // namespace webhook::store
