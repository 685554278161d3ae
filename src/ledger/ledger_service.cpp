#include "ledger/ledger_service.hpp"

#include <limits>

#include "analytics/local_days.hpp"
#include "core/api_error.hpp"
#include "core/clock.hpp"
#include "core/read_ahead.hpp"
#include "ledger/reward_counts.hpp"
#include "ledger/reward_status.hpp"

namespace ledger {

namespace {

constexpr int kWalkBatch = 10000;
constexpr int kBackfillBatch = 5000;

// `next` as an entry without its place in the chain (seq, prev_hash, hash).
Entry unchained(const NewEntry& next) {
  return {0,          next.kind,   next.reward_id, next.user_id, next.amount, next.unit,
          next.actor, next.reason, next.at,        {},           {}};
}

Entry chained(const NewEntry& next, const store::Head& head) {
  auto entry = unchained(next);
  entry.seq = head.seq + 1;
  entry.prev_hash = head.hash;
  entry.hash = entry_hash(entry);
  return entry;
}

// The entries of `next`, chained after `head`, which the caller holds locked.
std::vector<Entry> chained_after(store::Head head, const std::vector<NewEntry>& next) {
  std::vector<Entry> entries;
  entries.reserve(next.size());
  for (const auto& entry : next) {
    entries.push_back(chained(entry, head));
    head = {entries.back().seq, entries.back().hash, entries.back().at};
  }
  return entries;
}

// The write transaction's ledger batch, kept on its thread until
// db::before_commit writes it (a write transaction runs on one thread).
thread_local std::vector<NewEntry> batch;

// Counts the batch's rewards, then appends it under the head's lock, which
// it holds until the COMMIT that follows. The counter rows come first:
// inside the lock their upserts would lengthen the queue of appends, and a
// batch's counter rows (one shard, key order) wait only for another batch
// that drew the same shard, which waits for nothing held here
// (docs/ARCHITECTURE.md, Counters). On PostgreSQL a batch of one entry (an
// apply's, a credit's) is one round trip, PostgreSQL hashing the entry;
// a longer batch two: the counters with the head's lock and read, then the
// entries with the head's move.
void write_batch(soci::session& sql) {
  const auto entries = std::move(batch);
  batch.clear();
  if (entries.empty()) return;
  const auto deltas = reward_deltas(sql, entries);
  const auto& shard_key = entries.front().reward_id;
  if (entries.size() == 1 && store::appends_one_in_a_statement(sql)) {
    store::count_and_append_one(sql, deltas, shard_key, unchained(entries.front()));
    return;
  }
  store::write_entries(sql,
                       chained_after(store::count_and_lock_head(sql, deltas, shard_key), entries));
}

std::size_t batch_size() {
  return batch.size();
}

void forget_batch_from(std::size_t first) {
  if (first < batch.size()) batch.resize(first);
}

constexpr db::DeferredWrite kBatch{write_batch, batch_size, forget_batch_from};

std::vector<Entry> page_after(db::Database& database, long long after) {
  return database.read(
      [after](soci::session& sql) { return store::entries_after(sql, after, kWalkBatch); });
}

// The first problem in one page of the walk: an entry missing, linked to the
// wrong previous hash, or whose hash is not its own. Moves `after` and
// `prev_hash` to the page's last entry at or below `last`.
std::optional<Verdict> check_page(const std::vector<Entry>& page, const store::Head& last,
                                  long long& after, std::string& prev_hash) {
  for (const auto& entry : page) {
    if (entry.seq != after + 1) return Verdict{false, after + 1, {}, "entry missing"};
    if (entry.seq > last.seq) break;  // appended after the walk began
    if (entry.prev_hash != prev_hash)
      return Verdict{false, entry.seq, {}, "prev_hash is not the previous hash"};
    if (entry_hash(entry) != entry.hash)
      return Verdict{false, entry.seq, {}, "hash does not match the entry"};
    after = entry.seq;
    prev_hash = entry.hash;
  }
  return std::nullopt;
}

// Walks from seq 1 to `last` (the head read at the start), then `last` must
// name the final entry's hash. The next page is read on a second thread
// while this one is hashed and compared, so the two overlap. Reading costs
// the most: over 2.97M entries SHA-256 was 9% of verify's CPU and SQLite's
// page reads most of the rest (perf record, docs/PERFORMANCE.md).
std::optional<Verdict> walk_chain(db::Database& database, const store::Head& last) {
  long long after = 0;
  std::string prev_hash = kGenesisHash;
  core::ReadAhead<long long, std::vector<Entry>> pages(
      [&database](long long page_start) { return page_after(database, page_start); },
      [&last](const std::vector<Entry>& page) -> std::optional<long long> {
        if (page.empty() || page.back().seq >= last.seq) return std::nullopt;
        return page.back().seq;
      },
      0);
  while (after < last.seq) {
    const auto page = pages.next();
    if (!page || page->empty())
      return Verdict{false, after + 1, {}, "the entries end before the head"};
    if (auto broken = check_page(*page, last, after, prev_hash)) return broken;
  }
  if (prev_hash != last.hash)
    return Verdict{false, last.seq, {}, "the head's hash is not the last entry's"};
  return std::nullopt;
}

void require_one_of(const char* field, const std::optional<std::string>& value,
                    std::initializer_list<const char*> allowed) {
  if (!value) return;
  for (const char* name : allowed) {
    if (*value == name) return;
  }
  throw core::validation_error(std::string("'") + field + "' is not one of the allowed values.");
}

// The first instant of the UTC day `text` names, plus `days_later` days.
std::optional<long long> day_start(const char* field, const std::optional<std::string>& text,
                                   int days_later) {
  if (!text) return std::nullopt;
  const auto day = analytics::parse_date(*text);
  if (!day)
    throw core::validation_error(std::string("'") + field + "' must be a date, YYYY-MM-DD.");
  return (*day + days_later) * core::kMsPerDay;
}

std::optional<Verdict> check_projections(db::Database& database, const store::Head& head) {
  return database.read([&](soci::session& sql) -> std::optional<Verdict> {
    if (const auto mismatch = store::first_reward_mismatch(sql)) {
      return Verdict{false, mismatch->seq, {}, mismatch->problem};
    }
    if (const auto stats = store::first_stats_mismatch(sql))
      return Verdict{false, head.seq, {}, *stats};
    if (const auto counts = store::first_reward_count_mismatch(sql))
      return Verdict{false, head.seq, {}, *counts};
    return std::nullopt;
  });
}

}  // namespace

void append(soci::session& sql, const std::vector<NewEntry>& entries) {
  if (entries.empty()) return;
  batch.insert(batch.end(), entries.begin(), entries.end());
  db::before_commit(kBatch, sql);
}

store::Head LedgerService::head() {
  return database_.read([](soci::session& sql) { return store::read_head(sql); });
}

std::vector<Entry> LedgerService::entries_after(long long after, int limit) {
  return database_.read(
      [&](soci::session& sql) { return store::entries_after(sql, after, limit); });
}

Verdict LedgerService::verify() {
  const auto last = head();
  if (auto broken = walk_chain(database_, last)) return *broken;
  if (auto broken = check_projections(database_, last)) return *broken;
  return {true, last.seq, last.hash, {}};
}

store::ExportQuery LedgerService::export_query(const ExportFilter& filter) const {
  require_one_of("status", filter.status,
                 {reward_status::kPending, reward_status::kCredited, reward_status::kRevoked});
  require_one_of("unit", filter.unit, {"POINTS", "CASH"});
  store::ExportQuery query;
  query.status = filter.status;
  query.unit = filter.unit;
  query.from_ms = day_start("from", filter.from, 0).value_or(std::numeric_limits<long long>::min());
  query.to_ms = day_start("to", filter.to, 1).value_or(std::numeric_limits<long long>::max());
  if (query.from_ms >= query.to_ms) throw core::validation_error("'from' must not be after 'to'.");
  query.after_time = std::numeric_limits<long long>::min();
  return query;
}

std::vector<store::ExportRow> LedgerService::export_page(const store::ExportQuery& query) {
  return database_.read([&](soci::session& sql) { return store::export_page(sql, query); });
}

// Not counted in reward_counters: migration 0019 counted these rewards
// from their rows already.
long long complete_backfill(db::Database& database) {
  long long written = 0;
  for (;;) {
    const auto moved = database.write([](soci::session& sql) -> long long {
      const auto head =
          store::lock_head(sql);  // first: a second instance waits, then finds no rows
      const auto staged = store::staged_rows(sql, kBackfillBatch);
      if (staged.empty()) return 0;
      std::vector<NewEntry> entries;
      entries.reserve(staged.size());
      for (const auto& row : staged) {
        entries.push_back({row.kind, row.reward_id, row.user_id, row.amount, row.unit, row.actor,
                           row.reason, row.at});
      }
      store::write_entries(sql, chained_after(head, entries));
      store::drop_staged_rows(sql, staged.back().seq);
      return static_cast<long long>(staged.size());
    });
    if (moved == 0) return written;
    written += moved;
  }
}

}  // namespace ledger
