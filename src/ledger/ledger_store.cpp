#include "ledger/ledger_store.hpp"

#include <soci/soci.h>

#include <stdexcept>

#include "db/checked_sum.hpp"
#include "db/counter_store.hpp"
#include "db/statement_cache.hpp"
#include "db/statements.hpp"
#include "ledger/reward_status.hpp"
#include "referral/referral_status.hpp"

namespace ledger::store {

using soci::into;
using soci::use;

namespace {

constexpr const char* kEntryColumns =
    "SELECT seq, kind, reward_id, user_id, amount, unit, actor, reason, at, prev_hash, hash FROM "
    "ledger_entries ";

constexpr const char* kInsertEntry =
    "INSERT INTO ledger_entries (seq, kind, reward_id, user_id, amount, unit, actor, reason, at, "
    "prev_hash, hash) VALUES (:seq, :kind, :reward_id, :user_id, :amount, :unit, :actor, :reason, "
    ":at, :prev_hash, :hash)";

soci::details::prepare_temp_type bind_entry(soci::details::prepare_temp_type prepared,
                                            const Entry& entry) {
  prepared, use(entry.seq), use(entry.kind), use(entry.reward_id), use(entry.user_id),
      use(entry.amount), use(entry.unit), use(entry.actor), use(entry.reason), use(entry.at),
      use(entry.prev_hash), use(entry.hash);
  return prepared;
}

// Appends run once per reward write: prepared once per session.
struct AppendStatements {
  explicit AppendStatements(soci::session& sql)
      : lock((sql.prepare << std::string("SELECT seq, hash, at FROM ledger_head WHERE id = 1") +
                                 (db::is_postgresql(sql) ? " FOR UPDATE" : ""),
              into(head.seq), into(head.hash), into(head.at))),
        insert(bind_entry(sql.prepare << kInsertEntry, entry)),
        update((sql.prepare << "UPDATE ledger_head SET seq = :seq, hash = :hash, at = :at, "
                               "prev_hash = :prev_hash WHERE id = 1",
                use(head.seq), use(head.hash), use(head.at), use(head_prev_hash))) {}

  Head head;
  std::string head_prev_hash;  // the last entry's, kept in the head (migration 0026)
  Entry entry;
  soci::statement lock;
  soci::statement insert;
  soci::statement update;
};

// PostgreSQL: the last entry and the head's move in one statement, so the
// head's lock, held from the read, lasts one round trip less (SQLite has
// neither round trips nor writes inside WITH).
struct InsertLastEntry {
  explicit InsertLastEntry(soci::session& sql)
      : statement(
            bind_entry(sql.prepare << std::string("WITH inserted AS (") + kInsertEntry +
                                          " RETURNING seq, hash, at, prev_hash) UPDATE "
                                          "ledger_head SET seq = inserted.seq, hash = "
                                          "inserted.hash, at = inserted.at, prev_hash = "
                                          "inserted.prev_hash FROM inserted WHERE ledger_head.id "
                                          "= 1",
                       entry)) {}
  Entry entry;
  soci::statement statement;
};

Entry entry_from(const soci::row& row) {
  return {row.get<long long>(0),   row.get<std::string>(1), row.get<std::string>(2),
          row.get<std::string>(3), row.get<long long>(4),   row.get<std::string>(5),
          row.get<std::string>(6), row.get<std::string>(7), row.get<long long>(8),
          row.get<std::string>(9), row.get<std::string>(10)};
}

template <class... Bindings>
std::vector<Entry> select_entries(soci::session& sql, const std::string& query,
                                  Bindings&&... bindings) {
  soci::rowset<soci::row> rows = ((sql.prepare << query), ..., std::forward<Bindings>(bindings));
  std::vector<Entry> out;
  for (const auto& row : rows) out.push_back(entry_from(row));
  return out;
}

// The stream and `ledger verify` read every entry: typed fetches into one
// row, prepared once per session (3M rows through soci::row cost seconds).
struct EntryPage {
  explicit EntryPage(soci::session& sql)
      : statement((sql.prepare << std::string(kEntryColumns) +
                                      "WHERE seq > :after ORDER BY seq LIMIT :limit",
                   use(after), use(limit), into(row.seq), into(row.kind), into(row.reward_id),
                   into(row.user_id), into(row.amount), into(row.unit), into(row.actor),
                   into(row.reason), into(row.at), into(row.prev_hash), into(row.hash))) {}

  std::vector<Entry> run(long long after_seq, int max_rows) {
    after = after_seq;
    limit = max_rows;
    std::vector<Entry> out;
    out.reserve(static_cast<std::size_t>(max_rows));
    statement.execute(false);
    while (statement.fetch()) out.push_back(row);
    return out;
  }

  long long after = 0;
  int limit = 0;
  Entry row;
  soci::statement statement;
};

struct ExportPage {
  explicit ExportPage(soci::session& sql)
      : statement(
            (sql.prepare
                 << "SELECT r.id, r.referral_id, r.user_id, u.email, u.name, r.beneficiary, "
                    "r.reward_type, r.reward_value, r.reward_unit, r.status, r.created_at, "
                    "r.credited_at, r.revoked_at FROM rewards r JOIN users u ON u.id = r.user_id "
                    "WHERE (r.created_at, r.id) > (:after_time, :after_id) "
                    "AND r.created_at >= :from AND r.created_at < :to "
                    "AND (:any_status = 1 OR r.status = :status) "
                    "AND (:any_unit = 1 OR r.reward_unit = :unit) "
                    "ORDER BY r.created_at, r.id LIMIT :limit",
             use(query.after_time), use(query.after_id), use(query.from_ms), use(query.to_ms),
             use(any_status), use(status), use(any_unit), use(unit), use(query.limit),
             into(row.reward.id), into(row.reward.referral_id), into(row.reward.user_id),
             into(row.email), into(row.name), into(row.reward.beneficiary),
             into(row.reward.reward_type), into(row.reward.reward_value),
             into(row.reward.reward_unit), into(row.reward.status), into(row.reward.created_at),
             into(credited_at, credited), into(revoked_at, revoked))) {}

  std::vector<ExportRow> run(const ExportQuery& wanted) {
    query = wanted;
    any_status = wanted.status ? 0 : 1;
    status = wanted.status.value_or("");
    any_unit = wanted.unit ? 0 : 1;
    unit = wanted.unit.value_or("");
    std::vector<ExportRow> out;
    out.reserve(static_cast<std::size_t>(wanted.limit));
    statement.execute(false);
    while (statement.fetch()) {
      auto& reward = out.emplace_back(row).reward;
      reward.credited_at = credited == soci::i_ok ? std::optional(credited_at) : std::nullopt;
      reward.revoked_at = revoked == soci::i_ok ? std::optional(revoked_at) : std::nullopt;
    }
    return out;
  }

  ExportQuery query;
  int any_status = 1;
  std::string status;
  int any_unit = 1;
  std::string unit;
  ExportRow row;
  long long credited_at = 0;
  long long revoked_at = 0;
  soci::indicator credited = soci::i_null;
  soci::indicator revoked = soci::i_null;
  soci::statement statement;
};

constexpr const char* kInsertCounters =
    "INSERT INTO reward_counters (unit, status, shard, rewards, value_high, value_low) ";
constexpr const char* kAddToCounters =
    " ON CONFLICT (unit, status, shard) DO UPDATE SET "
    "rewards = reward_counters.rewards + excluded.rewards, "
    "value_high = reward_counters.value_high + excluded.value_high, "
    "value_low = reward_counters.value_low + excluded.value_low";

// SQLite: once per (unit, status) a batch changes (no round trips to save);
// the seeder. Prepared once per session.
struct RewardCountUpsert {
  explicit RewardCountUpsert(soci::session& sql)
      : statement((sql.prepare << std::string(kInsertCounters) +
                                      "VALUES (:unit, :status, :shard, :rewards, :high, :low)" +
                                      kAddToCounters,
                   use(unit), use(status), use(shard), use(delta.rewards), use(delta.value_high),
                   use(delta.value_low))) {}
  std::string unit;
  std::string status;
  int shard = 0;
  RewardCount delta;
  soci::statement statement;
};

// A PostgreSQL array literal; the elements are counter names and numbers,
// quoted all the same.
template <class Field>
std::string array_of(const std::vector<CounterDelta>& deltas, Field field) {
  std::string out = "{";
  for (const auto& delta : deltas) {
    if (out.size() > 1) out += ',';
    out += '"' + field(delta) + '"';
  }
  return out + '}';
}

// PostgreSQL: a batch's counter deltas as arrays, upserted in their (unit,
// status) order by the `counted` statement that begins the head's lock; the
// lock's filter reads `counted`, so the upserts run before the head is locked.
struct CountedDeltas {
  static std::string counters() {
    return std::string("WITH counted AS (") + kInsertCounters +
           "SELECT d.unit, d.status, CAST(:shard AS INTEGER), d.rewards, d.high, d.low FROM "
           "unnest(CAST(:units AS TEXT[]), CAST(:statuses AS TEXT[]), CAST(:rewards AS BIGINT[]), "
           "CAST(:highs AS BIGINT[]), CAST(:lows AS BIGINT[])) WITH ORDINALITY "
           "AS d (unit, status, rewards, high, low, n) ORDER BY d.n" +
           kAddToCounters + " RETURNING 1)";
  }

  void set(const std::vector<CounterDelta>& deltas, std::string_view shard_key) {
    shard = db::counters::shard_of(shard_key);
    units = array_of(deltas, [](const auto& d) { return d.unit; });
    statuses = array_of(deltas, [](const auto& d) { return d.status; });
    rewards = array_of(deltas, [](const auto& d) { return std::to_string(d.delta.rewards); });
    highs = array_of(deltas, [](const auto& d) { return std::to_string(d.delta.value_high); });
    lows = array_of(deltas, [](const auto& d) { return std::to_string(d.delta.value_low); });
  }

  int shard = 0;
  std::string units, statuses, rewards, highs, lows;
};

template <class Prepared>
Prepared bind_deltas(Prepared prepared, CountedDeltas& deltas) {
  prepared, use(deltas.shard, "shard"), use(deltas.units, "units"),
      use(deltas.statuses, "statuses"), use(deltas.rewards, "rewards"), use(deltas.highs, "highs"),
      use(deltas.lows, "lows");
  return prepared;
}

struct CountAndLockHead {
  explicit CountAndLockHead(soci::session& sql)
      : statement(
            (bind_deltas(sql.prepare << CountedDeltas::counters() +
                                            " SELECT seq, hash, at FROM ledger_head WHERE id = 1 "
                                            "AND (SELECT COUNT(*) FROM counted) >= 0 FOR UPDATE",
                         deltas),
             into(head.seq), into(head.hash), into(head.at))) {}
  CountedDeltas deltas;
  Head head;
  soci::statement statement;
};

// One field of canonical_bytes in SQL: its UTF-8 length as 4 big-endian
// bytes, then the bytes.
std::string canonical_field(const std::string& text) {
  const auto utf8 = "convert_to(" + text + ", 'UTF8')";
  return "int4send(octet_length(" + utf8 + ")) || " + utf8;
}

// canonical_bytes of the entry after the head row being updated.
std::string canonical_bytes_in_sql() {
  std::string out;
  for (const char* field :
       {"CAST(:tag AS TEXT)", "CAST(ledger_head.seq + 1 AS TEXT)", "CAST(:kind AS TEXT)",
        "CAST(:reward_id AS TEXT)", "CAST(:user_id AS TEXT)", "CAST(:amount AS TEXT)",
        "CAST(:unit AS TEXT)", "CAST(:actor AS TEXT)", "CAST(:reason AS TEXT)", "CAST(:at AS TEXT)",
        "ledger_head.hash"}) {
    out += (out.empty() ? "" : " || ") + canonical_field(field);
  }
  return out;
}

// The counters, the head's move (its lock), then the entry from what the
// move returns. The UPDATE comes first because READ COMMITTED re-evaluates
// an UPDATE's SET on the newest row after waiting for its lock, cheaply; a
// SELECT ... FOR UPDATE in this statement gets the same only by re-running
// the statement's plan for the new row (EvalPlanQual), which cost more than
// the round trips saved once appends queued on the head (pgbench, three
// clients: docs/PERFORMANCE.md).
std::string count_and_append_one_sql() {
  return CountedDeltas::counters() +
         ", moved AS (UPDATE ledger_head SET seq = ledger_head.seq + 1, prev_hash = "
         "ledger_head.hash, at = CAST(:at AS BIGINT), hash = encode(sha256(" +
         canonical_bytes_in_sql() +
         "), 'hex') WHERE ledger_head.id = 1 AND (SELECT COUNT(*) FROM counted) >= 0 RETURNING "
         "seq, prev_hash, hash, at) INSERT INTO ledger_entries (seq, kind, reward_id, user_id, "
         "amount, unit, actor, reason, at, prev_hash, hash) SELECT seq, :kind, :reward_id, "
         ":user_id, :amount, :unit, :actor, :reason, at, prev_hash, hash FROM moved";
}

struct CountAndAppendOne {
  explicit CountAndAppendOne(soci::session& sql)
      : statement((bind_deltas(sql.prepare << count_and_append_one_sql(), deltas),
                   use(entry.kind, "kind"), use(entry.reward_id, "reward_id"),
                   use(entry.user_id, "user_id"), use(entry.amount, "amount"),
                   use(entry.unit, "unit"), use(entry.actor, "actor"), use(entry.reason, "reason"),
                   use(entry.at, "at"), use(tag, "tag"))) {}
  CountedDeltas deltas;
  Entry entry;
  std::string tag{kLayoutTag};
  soci::statement statement;
};

}  // namespace

void RewardCount::add(long long count, long long value) {
  const auto split = db::split_value(value);
  rewards += count;
  value_high += count * split.high;
  value_low += count * split.low;
}

Head lock_head(soci::session& sql) {
  auto& statements = db::cached<AppendStatements>(sql);
  statements.lock.execute(true);
  db::finish_row(statements.lock);
  return statements.head;
}

Head read_head(soci::session& sql) {
  Head head;
  sql << "SELECT seq, hash, at FROM ledger_head WHERE id = 1", into(head.seq), into(head.hash),
      into(head.at);
  return head;
}

Head count_and_lock_head(soci::session& sql, const std::vector<CounterDelta>& deltas,
                         std::string_view shard_key) {
  if (!db::is_postgresql(sql)) {  // no round trips to save
    for (const auto& delta : deltas)
      add_to_reward_counts(sql, delta.unit, delta.status, shard_key, delta.delta);
    return lock_head(sql);
  }
  auto& statement = db::cached<CountAndLockHead>(sql);
  statement.deltas.set(deltas, shard_key);
  statement.statement.execute(true);
  db::finish_row(statement.statement);
  return statement.head;
}

bool appends_one_in_a_statement(soci::session& sql) {
  return db::is_postgresql(sql);
}

void count_and_append_one(soci::session& sql, const std::vector<CounterDelta>& deltas,
                          std::string_view shard_key, const Entry& entry) {
  auto& statement = db::cached<CountAndAppendOne>(sql);
  statement.deltas.set(deltas, shard_key);
  statement.entry = entry;
  statement.statement.execute(true);
  if (statement.statement.get_affected_rows() != 1)
    throw std::runtime_error("the ledger's head row is missing");
}

void write_entries(soci::session& sql, const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  auto& statements = db::cached<AppendStatements>(sql);
  const bool postgres = db::is_postgresql(sql);
  const auto plain = postgres ? entries.size() - 1 : entries.size();
  for (std::size_t n = 0; n < plain; ++n) {
    statements.entry = entries[n];
    statements.insert.execute(true);
  }
  const auto& last = entries.back();
  if (postgres) {
    auto& insert_last = db::cached<InsertLastEntry>(sql);
    insert_last.entry = last;
    insert_last.statement.execute(true);
    return;
  }
  statements.head = {last.seq, last.hash, last.at};
  statements.head_prev_hash = last.prev_hash;
  statements.update.execute(true);
}

std::vector<Entry> entries_after(soci::session& sql, long long after, int limit) {
  return db::cached<EntryPage>(sql).run(after, limit);
}

std::vector<Entry> entries_of_reward(soci::session& sql, const std::string& reward_id) {
  return select_entries(sql, std::string(kEntryColumns) + "WHERE reward_id = :id ORDER BY seq",
                        use(reward_id));
}

bool holds_value(soci::session& sql, const std::string& user_id) {
  int found = 0;
  sql << "SELECT 1 FROM ledger_entries WHERE user_id = :id UNION ALL "
         "SELECT 1 FROM referrals f JOIN rewards r ON r.referral_id = f.id WHERE f.referrer_id = "
         ":id LIMIT 1",
      use(user_id, "id"), into(found);
  return sql.got_data();
}

bool was_credited(soci::session& sql, const std::string& reward_id) {
  int found = 0;
  sql << "SELECT 1 FROM ledger_entries WHERE reward_id = :id AND kind = " + db::literal(kCredited) +
             " LIMIT 1",
      use(reward_id), into(found);
  return sql.got_data();
}

void add_to_reward_counts(soci::session& sql, const std::string& unit, const std::string& status,
                          std::string_view shard_key, const RewardCount& delta) {
  auto& upsert = db::cached<RewardCountUpsert>(sql);
  upsert.unit = unit;
  upsert.status = status;
  upsert.shard = db::counters::shard_of(shard_key);
  upsert.delta = delta;
  upsert.statement.execute(true);
}

std::vector<Entry> staged_rows(soci::session& sql, int limit) {
  return select_entries(
      sql,
      "SELECT ord, kind, reward_id, user_id, amount, unit, actor, reason, at, '', '' "
      "FROM ledger_backfill ORDER BY ord LIMIT :limit",
      use(limit));
}

void drop_staged_rows(soci::session& sql, long long up_to_order) {
  sql << "DELETE FROM ledger_backfill WHERE ord <= :ord", use(up_to_order);
}

std::vector<ExportRow> export_page(soci::session& sql, const ExportQuery& query) {
  return db::cached<ExportPage>(sql).run(query);
}

std::optional<Mismatch> first_reward_mismatch(soci::session& sql) {
  // One grouped pass over the entries: per reward, how many of each kind and
  // where, and whether all carry the reward's beneficiary, amount and unit.
  // (A separate join of every entry to its reward cost as much again.)
  // Per kind: how many entries (<name>_n) and the first one's place (<name>_seq).
  const auto per_kind = [](const char* kind, const std::string& name) {
    return " " + db::count_of("kind", kind) + " AS " + name +
           "_n, MIN(CASE WHEN kind = " + db::literal(kind) + " THEN seq END) AS " + name + "_seq,";
  };
  Mismatch found;
  std::string reward_id, status;
  sql << "SELECT COALESCE(g.last_seq, 0), r.id, r.status FROM rewards r LEFT JOIN ("
         " SELECT reward_id, MIN(seq) AS first_seq, MAX(seq) AS last_seq," +
             per_kind(kCreated, "created") + per_kind(kCredited, "credited") +
             per_kind(kRevoked, "revoked") +
             " MIN(user_id) AS user_lo, MAX(user_id) AS user_hi, MIN(amount) AS amount_lo,"
             " MAX(amount) AS amount_hi, MIN(unit) AS unit_lo, MAX(unit) AS unit_hi"
             " FROM ledger_entries GROUP BY reward_id) g ON g.reward_id = r.id "
             "WHERE g.reward_id IS NULL OR g.created_n <> 1 OR g.created_seq <> g.first_seq OR "
             "g.credited_n > 1"
             " OR g.revoked_n > 1 OR g.credited_seq > g.revoked_seq"
             " OR r.status <> CASE WHEN g.revoked_n > 0 THEN " +
             db::literal(reward_status::kRevoked) + " WHEN g.credited_n > 0 THEN " +
             db::literal(reward_status::kCredited) + " ELSE " +
             db::literal(reward_status::kPending) +
             " END"
             " OR g.user_lo <> g.user_hi OR g.user_lo <> r.user_id OR g.amount_lo <> g.amount_hi"
             " OR g.amount_lo <> r.reward_value OR g.unit_lo <> g.unit_hi OR g.unit_lo <> "
             "r.reward_unit "
             "ORDER BY 1 LIMIT 1",
      into(found.seq), into(reward_id), into(status);
  if (!sql.got_data()) return std::nullopt;
  found.problem = "reward " + reward_id + " (" + status + ") differs from what its entries say";
  return found;
}

std::optional<std::string> first_stats_mismatch(soci::session& sql) {
  // The counters minus the counts, summed per referrer: anything but zero is
  // a mismatch. (A FULL OUTER JOIN of the two took SQLite 2.8 s of CPU at
  // 100k referrals; this is one grouped pass over each.)
  std::string user_id;
  sql << "SELECT user_id FROM ("
         " SELECT user_id, total, successful, pending, rejected FROM referrer_stats"
         " UNION ALL"
         " SELECT referrer_id, -COUNT(*),"
         " -" +
             db::count_of("status", referral::referral_status::kSuccess) + ", -" +
             db::count_of("status", referral::referral_status::kPending) + ", -" +
             db::count_of("status", referral::referral_status::kRejected) +
             " FROM referrals GROUP BY referrer_id) AS both_sides "
             "GROUP BY user_id HAVING SUM(total) <> 0 OR SUM(successful) <> 0"
             " OR SUM(pending) <> 0 OR SUM(rejected) <> 0 LIMIT 1",
      into(user_id);
  if (!sql.got_data()) return std::nullopt;
  return "referrer_stats of " + user_id + " differ from the statuses of its referrals";
}

std::optional<std::string> first_reward_count_mismatch(soci::session& sql) {
  // As first_stats_mismatch: the counters minus the rows' partial sums
  // (compared apart, so a sum past 2^63-1 is still checked exactly).
  const std::string counted = "SELECT reward_unit, status, COUNT(*), " +
                              db::split_sum("reward_value") +
                              " FROM rewards GROUP BY reward_unit, status";
  std::string unit, status;
  sql << "WITH counted (unit, status, rewards, value_high, value_low) AS (" + counted +
             ") SELECT unit, status FROM ("
             " SELECT unit, status, rewards, value_high, value_low FROM reward_counters"
             " UNION ALL"
             " SELECT unit, status, -rewards, -value_high, -value_low FROM counted) AS both_sides "
             "GROUP BY unit, status "
             "HAVING SUM(rewards) <> 0 OR SUM(value_high) <> 0 OR SUM(value_low) <> 0 "
             "ORDER BY unit, status LIMIT 1",
      into(unit), into(status);
  if (!sql.got_data()) return std::nullopt;
  return "reward_counters of " + status + " " + unit + " differ from the rewards";
}

}  // namespace ledger::store
