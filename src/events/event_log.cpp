#include "events/event_log.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>

#include "core/random.hpp"
#include "db/database.hpp"
#include "db/deferred_writes.hpp"
#include "db/statement_cache.hpp"
#include "db/statements.hpp"

namespace events {

namespace {

using soci::into;
using soci::use;

struct KeptEvent {
  NewEvent event;
  long long created_at = 0;
};

// The write transaction's events, kept on its thread until db::before_commit
// writes them (a write transaction runs on one thread): the events of an
// apply (referral created, rewards created) cost one INSERT, not one each.
thread_local std::vector<KeptEvent> kept;

// One INSERT of `count` rows, prepared once per session and count.
struct InsertEvents {
  InsertEvents(soci::session& sql, std::size_t count)
      : rows(count), created_at(count), statement(prepare(sql)) {}

  void run(std::vector<KeptEvent>::const_iterator from) {
    for (std::size_t n = 0; n < rows.size(); ++n, ++from) {
      rows[n].id = "evt_" + core::new_id();
      rows[n].type = from->event.type;
      rows[n].aggregate_id = from->event.aggregate_id;
      rows[n].data_json = from->event.data_json;
      created_at[n] = from->created_at;
    }
    statement.execute(true);
  }

  // Bound by address: never resized.
  std::vector<Event> rows;
  std::vector<long long> created_at;
  soci::statement statement;

 private:
  soci::details::prepare_temp_type prepare(soci::session& sql) {
    std::string values;
    for (std::size_t n = 0; n < rows.size(); ++n) {
      const auto i = std::to_string(n);
      values += (n == 0 ? "(:id" : ", (:id") + i + ", :type" + i + ", :aggregate" + i + ", :data" +
                i + ", :at" + i + ")";
    }
    auto query = (sql.prepare << "INSERT INTO domain_events (id, type, aggregate_id, data_json, "
                                 "created_at) VALUES " +
                                     values);
    for (std::size_t n = 0; n < rows.size(); ++n) {
      query, use(rows[n].id), use(rows[n].type), use(rows[n].aggregate_id), use(rows[n].data_json),
          use(created_at[n]);
    }
    return query;
  }
};

// Rows per INSERT: a bulk change (a hold timer crediting thousands of
// rewards) goes kMaxRowsPerInsert at a time, far below either engine's limit
// on bound parameters; a session prepares one shape per count it meets (an
// apply has three events, a credit one or two).
constexpr std::size_t kMaxRowsPerInsert = 64;

struct InsertEventsByCount {
  explicit InsertEventsByCount(soci::session&) {}
  std::map<std::size_t, std::unique_ptr<InsertEvents>> statements;

  void run(soci::session& sql, std::vector<KeptEvent>::const_iterator from, std::size_t count) {
    auto& insert = statements[count];
    if (!insert) insert = std::make_unique<InsertEvents>(sql, count);
    insert->run(from);
  }
};

void write_kept(soci::session& sql) {
  const auto events = std::move(kept);
  kept.clear();
  auto& inserts = db::cached<InsertEventsByCount>(sql);
  for (auto from = events.begin(); from != events.end();) {
    const auto count = std::min(kMaxRowsPerInsert, static_cast<std::size_t>(events.end() - from));
    inserts.run(sql, from, count);
    from += static_cast<std::ptrdiff_t>(count);
  }
}

std::size_t kept_count() {
  return kept.size();
}

void forget_kept_from(std::size_t first) {
  if (first < kept.size()) kept.resize(first);
}

constexpr db::DeferredWrite kKeptEvents{write_kept, kept_count, forget_kept_from,
                                        db::DeferredWrite::Order::first};

struct Cursor {
  long long xid = 0;
  long long seq = 0;
};

// Locks the consumer's cursor row (creating it at the start of the log the
// first time). Empty when another transaction holds it: that instance is
// reading for this consumer now, and waiting would only hand us the events
// it is about to consume.
std::optional<Cursor> lock_cursor(soci::session& sql, const std::string& consumer) {
  sql << "INSERT INTO event_cursors (consumer) VALUES (:consumer) ON CONFLICT (consumer) DO "
         "NOTHING",
      use(consumer);
  Cursor cursor;
  // SQLite: the write transaction already excludes every other writer.
  const std::string lock = db::is_postgresql(sql) ? " FOR UPDATE SKIP LOCKED" : "";
  sql << "SELECT last_xid, last_seq FROM event_cursors WHERE consumer = :consumer" + lock,
      use(consumer), into(cursor.xid), into(cursor.seq);
  if (!sql.got_data()) return std::nullopt;
  return cursor;
}

constexpr const char* kEventColumns =
    "SELECT seq, id, type, aggregate_id, data_json, created_at FROM domain_events ";

// Only transactions older than every running one (xid below the snapshot's
// xmin) have finished: their events, in (writer_xid, seq) order, are a prefix
// no later commit can add to (migrations/0012_domain_events.sql).
constexpr const char* kAfterPostgres =
    "WHERE (writer_xid, seq) > (:xid, :seq)"
    " AND writer_xid < CAST(CAST(pg_snapshot_xmin(pg_current_snapshot()) AS TEXT) AS BIGINT)"
    " ORDER BY writer_xid, seq LIMIT :limit";

// SQLite commits one writer at a time: seq order is commit order.
constexpr const char* kAfterSqlite = "WHERE seq > :seq ORDER BY seq LIMIT :limit";

std::vector<Event> events_after(soci::session& sql, const Cursor& cursor, int limit) {
  Event event;
  long long seq = 0;
  long long created_at = 0;
  const bool postgres = db::is_postgresql(sql);
  auto prepared =
      (sql.prepare << std::string(kEventColumns) + (postgres ? kAfterPostgres : kAfterSqlite),
       into(seq), into(event.id), into(event.type), into(event.aggregate_id), into(event.data_json),
       into(created_at));
  if (postgres) prepared, use(cursor.xid);
  prepared, use(cursor.seq), use(limit);
  soci::statement statement(prepared);
  statement.execute(false);
  std::vector<Event> out;
  while (statement.fetch()) {
    event.seq = seq;
    event.created_at_ms = created_at;
    out.push_back(event);
  }
  return out;
}

}  // namespace

void publish(soci::session& sql, const NewEvent& event, std::int64_t now_ms) {
  kept.push_back({event, now_ms});
  db::before_commit(kKeptEvents, sql);
}

void publish_all(soci::session& sql, const std::vector<NewEvent>& events, std::int64_t now_ms) {
  for (const auto& event : events) kept.push_back({event, now_ms});
  if (!events.empty()) db::before_commit(kKeptEvents, sql);
}

std::vector<Event> read_next(soci::session& sql, std::string_view consumer, int limit) {
  const auto cursor = lock_cursor(sql, std::string(consumer));
  if (!cursor) return {};
  return events_after(sql, *cursor, limit);
}

void advance(soci::session& sql, std::string_view consumer, std::int64_t seq) {
  const std::string name(consumer);
  Cursor to{0, seq};
  // The event's own writer_xid places it in the reading order.
  sql << "SELECT writer_xid FROM domain_events WHERE seq = :seq", use(to.seq), into(to.xid);
  if (!sql.got_data()) return;
  // A cursor already past the event stays where it is.
  sql << "UPDATE event_cursors SET last_xid = :xid, last_seq = :seq"
         " WHERE consumer = :consumer AND (last_xid, last_seq) < (:at_xid, :at_seq)",
      use(to.xid), use(to.seq), use(name), use(to.xid), use(to.seq);
}

std::vector<Event> find(soci::session& sql, const std::vector<std::string>& ids) {
  std::vector<Event> out;
  Event event;
  long long seq = 0;
  long long created_at = 0;
  std::string id;
  soci::statement statement = (sql.prepare << std::string(kEventColumns) + "WHERE id = :id",
                               use(id), into(seq), into(event.id), into(event.type),
                               into(event.aggregate_id), into(event.data_json), into(created_at));
  for (const auto& wanted : ids) {
    id = wanted;
    statement.execute(true);
    if (!statement.got_data()) continue;
    event.seq = seq;
    event.created_at_ms = created_at;
    out.push_back(event);
  }
  return out;
}

std::vector<std::pair<std::string, std::int64_t>> backlog(soci::session& sql) {
  std::string consumer;
  long long behind = 0;
  // MAX(seq) is one step down the primary key on both engines.
  soci::statement statement =
      (sql.prepare
           << "SELECT consumer, (SELECT COALESCE(MAX(seq), 0) FROM domain_events) - last_seq"
              " FROM event_cursors ORDER BY consumer",
       into(consumer), into(behind));
  statement.execute();
  std::vector<std::pair<std::string, std::int64_t>> out;
  while (statement.fetch()) out.emplace_back(consumer, std::max(0LL, behind));
  return out;
}

}  // namespace events
