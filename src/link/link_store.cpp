#include "link/link_store.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <boost/json.hpp>
#include <map>
#include <tuple>

#include "core/clock.hpp"
#include "db/copy_in.hpp"
#include "db/statement_cache.hpp"
#include "db/statements.hpp"
#include "referral/referral_status.hpp"

namespace links::store {

using soci::into;
using soci::use;

namespace {

// Range reads come in batches into vectors: a 90-day funnel of a busy code
// is thousands of bucket rows, and one fetch per row costs more than the sums.
constexpr std::size_t kBatch = 512;

template <class A, class B>
void fetch_pairs(soci::statement& statement, std::vector<A>& first, std::vector<B>& second,
                 const std::function<void(A, B)>& visit) {
  first.resize(kBatch);
  second.resize(kBatch);
  statement.execute();
  while (statement.fetch()) {
    for (std::size_t i = 0; i < first.size(); ++i) visit(first[i], second[i]);
  }
}

void fetch_times(soci::statement& statement, std::vector<long long>& at, std::vector<int>& verified,
                 const std::function<void(std::int64_t, bool)>& visit) {
  fetch_pairs<long long, int>(statement, at, verified,
                              [&](long long when, int flag) { visit(when, flag != 0); });
}

// A flush writes its clicks and claims with one statement each, the rows
// passed as one JSON array: with a statement per click, PostgreSQL's
// flusher fell far behind /r/{code} (an 8 s bench run: 13k clicks written,
// 146k still buffered), and multi-row VALUES with thousands of parameters
// were no faster (planning them cost as much as the round trips).
//
// Each engine's way to read the JSON array `:rows` as a table whose column i
// is the text of element i of each row (numbers are cast where inserted).
std::string rows_of(soci::session& sql, std::initializer_list<const char*> casts) {
  const bool postgres = db::is_postgresql(sql);
  std::string columns;
  int index = 0;
  for (const char* cast : casts) {
    const auto element = std::string(postgres ? "e->>" : "e.value->>") + std::to_string(index++);
    columns +=
        (columns.empty() ? "" : ", ") + (*cast ? "CAST(" + element + " AS " + cast + ")" : element);
  }
  // WHERE true: SQLite needs it to parse an upsert after INSERT ... SELECT.
  return "SELECT " + columns +
         (postgres ? " FROM jsonb_array_elements(CAST(:rows AS jsonb)) AS e WHERE true"
                   : " FROM json_each(:rows) AS e WHERE true");
}

struct Claim {
  std::string code_id;
  long long day = 0;
  std::string visitor_hash;
};
using ClaimKey = std::tuple<std::string, long long, std::string>;

// Inserts the claims; returns those that were new (a claim another flush or
// instance made first is skipped by ON CONFLICT, so RETURNING leaves it out).
std::vector<ClaimKey> insert_claims(soci::session& sql, const std::vector<Claim>& claims) {
  boost::json::array rows;
  for (const auto& claim : claims)
    rows.push_back(boost::json::array{claim.code_id, claim.day, claim.visitor_hash});
  const auto json = boost::json::serialize(rows);
  std::string code_id, visitor_hash;
  long long day = 0;
  soci::statement statement =
      (sql.prepare << "INSERT INTO link_visitors (code_id, day, visitor_hash) " +
                          rows_of(sql, {"", "BIGINT", ""}) +
                          " ON CONFLICT DO NOTHING RETURNING code_id, day, visitor_hash",
       use(json), into(code_id), into(day), into(visitor_hash));
  std::vector<ClaimKey> won;
  if (statement.execute(true)) {
    do {
      won.emplace_back(code_id, day, visitor_hash);
    } while (statement.fetch());
  }
  return won;
}

void insert_click_rows_as_json(soci::session& sql, const std::vector<ClickRow>& clicks,
                               const std::vector<int>& unique) {
  boost::json::array rows;
  for (std::size_t i = 0; i < clicks.size(); ++i) {
    const auto& click = clicks[i];
    rows.push_back(boost::json::array{click.id_text(), *click.code_id, click.at,
                                      click.visitor_text(), click.agent_family, click.referrer_host,
                                      unique[i]});
  }
  const auto json = boost::json::serialize(rows);
  sql << "INSERT INTO link_clicks (id, code_id, at, visitor_hash, agent_family, referrer_host, "
         "is_unique) " +
             rows_of(sql, {"", "", "BIGINT", "", "", "", "INTEGER"}),
      use(json);
}

// PostgreSQL takes the rows by COPY: parsing the batch as jsonb and
// projecting each element was about a fifth of its CPU per click (perf,
// docs/PERFORMANCE.md, *Share links*). Ids, visitor hashes and agent
// families need no escaping (hex, base64url, fixed names).
void copy_click_rows(soci::session& sql, const std::vector<ClickRow>& clicks,
                     const std::vector<int>& unique) {
  std::string rows;
  rows.reserve(clicks.size() * 160);
  for (std::size_t i = 0; i < clicks.size(); ++i) {
    const auto& click = clicks[i];
    rows.append(click.id_text()).push_back('\t');
    db::append_copy_field(rows, *click.code_id);
    rows.append("\t").append(std::to_string(click.at)).push_back('\t');
    rows.append(click.visitor_text()).push_back('\t');
    rows.append(click.agent_family).push_back('\t');
    db::append_copy_field(rows, click.referrer_host);
    rows.append(unique[i] ? "\t1\n" : "\t0\n");
  }
  db::copy_in(sql,
              "COPY link_clicks (id, code_id, at, visitor_hash, agent_family, referrer_host, "
              "is_unique) FROM STDIN",
              rows);
}

void insert_click_rows(soci::session& sql, const std::vector<ClickRow>& clicks,
                       const std::vector<int>& unique) {
  if (db::is_postgresql(sql)) return copy_click_rows(sql, clicks, unique);
  insert_click_rows_as_json(sql, clicks, unique);
}

}  // namespace

std::unordered_set<std::string> lock_codes(soci::session& sql,
                                           const std::vector<std::string>& code_ids) {
  const auto json = boost::json::serialize(boost::json::array(code_ids.begin(), code_ids.end()));
  std::string id;
  soci::statement statement =
      (sql.prepare << (db::is_postgresql(sql)
                           ? "SELECT id FROM referral_codes WHERE id IN (SELECT "
                             "jsonb_array_elements_text(CAST(:ids AS jsonb))) ORDER BY id "
                             "FOR KEY SHARE"
                           : "SELECT id FROM referral_codes WHERE id IN (SELECT value FROM "
                             "json_each(:ids))"),
       use(json), into(id));
  std::unordered_set<std::string> found;
  statement.execute();
  while (statement.fetch()) found.insert(id);
  return found;
}

std::vector<bool> insert_clicks(soci::session& sql, const std::vector<ClickRow>& clicks,
                                const std::vector<bool>& known_repeat) {
  // The first click of each (code, day, visitor) not known to repeat claims it.
  std::vector<Claim> claims;
  std::map<std::tuple<std::string, long long, std::string>, std::size_t>
      first_of;  // claim -> click
  for (std::size_t i = 0; i < clicks.size(); ++i) {
    if (known_repeat[i]) continue;
    const auto& click = clicks[i];
    const auto day = click.at - click.at % core::kMsPerDay;
    const std::string visitor(click.visitor_text());
    if (first_of.try_emplace({*click.code_id, day, visitor}, i).second) {
      claims.push_back({*click.code_id, day, visitor});
    }
  }
  std::vector<int> unique(clicks.size(), 0);
  if (!claims.empty()) {
    for (const auto& won : insert_claims(sql, claims)) unique[first_of.at(won)] = 1;
  }
  if (!clicks.empty()) insert_click_rows(sql, clicks, unique);
  return {unique.begin(), unique.end()};
}

void add_counters(soci::session& sql, const std::vector<CounterDelta>& deltas) {
  CounterDelta row;
  soci::statement per_code =
      (sql.prepare << "INSERT INTO link_counters (code_id, bucket_at, clicks, unique_visitors) "
                      "VALUES (:code_id, :bucket_at, :clicks, :unique_visitors) "
                      "ON CONFLICT (code_id, bucket_at) DO UPDATE SET "
                      "clicks = link_counters.clicks + excluded.clicks, "
                      "unique_visitors = link_counters.unique_visitors + excluded.unique_visitors",
       use(row.code_id), use(row.bucket_at), use(row.clicks), use(row.unique_visitors));
  soci::statement all_codes =
      (sql.prepare
           << "INSERT INTO link_counters_all (bucket_at, clicks, unique_visitors) "
              "VALUES (:bucket_at, :clicks, :unique_visitors) "
              "ON CONFLICT (bucket_at) DO UPDATE SET "
              "clicks = link_counters_all.clicks + excluded.clicks, "
              "unique_visitors = link_counters_all.unique_visitors + excluded.unique_visitors",
       use(row.bucket_at), use(row.clicks), use(row.unique_visitors));
  soci::statement total =
      (sql.prepare << "INSERT INTO link_totals (code_id, clicks, unique_visitors) "
                      "VALUES (:code_id, :clicks, :unique_visitors) "
                      "ON CONFLICT (code_id) DO UPDATE SET "
                      "clicks = link_totals.clicks + excluded.clicks, "
                      "unique_visitors = link_totals.unique_visitors + excluded.unique_visitors",
       use(row.code_id), use(row.clicks), use(row.unique_visitors));
  for (const auto& delta : deltas) {
    row = delta;
    per_code.execute(true);
    total.execute(true);
  }
  // The all-codes rows last and in bucket order, for the same lock order.
  std::map<long long, std::pair<long long, long long>> by_bucket;
  for (const auto& delta : deltas) {
    auto& sums = by_bucket[delta.bucket_at];
    sums.first += delta.clicks;
    sums.second += delta.unique_visitors;
  }
  for (const auto& [bucket_at, sums] : by_bucket) {
    row.bucket_at = bucket_at;
    row.clicks = sums.first;
    row.unique_visitors = sums.second;
    all_codes.execute(true);
  }
}

void insert_attribution(soci::session& sql, const std::string& user_id, const std::string& code_id,
                        const std::optional<std::string>& click_id, const std::string& source,
                        long long at) {
  soci::indicator click_indicator = click_id ? soci::i_ok : soci::i_null;
  const std::string click = click_id.value_or("");
  sql << "INSERT INTO link_attributions (user_id, code_id, click_id, source, created_at) "
         "VALUES (:user_id, :code_id, :click_id, :source, :created_at)",
      use(user_id), use(code_id), use(click, click_indicator), use(source), use(at);
}

namespace {

// On PostgreSQL the reads of one code's funnel are kept prepared per pooled
// session (db::cached): a one-shot statement costs a prepare round trip,
// and a funnel runs three or four of them. SQLite prepares in process, and
// the all-codes reads of the admin funnel are rarer: those stay one-shot. Each query's vectors are
// sized to the batch before it runs (the last fetch of the previous run shrank them).
constexpr const char* kDaySums =
    "SELECT (bucket_at - :base) / :length, CAST(SUM(clicks) AS BIGINT), "
    "CAST(SUM(unique_visitors) AS BIGINT) FROM ";
constexpr const char* kBuckets = "SELECT bucket_at, clicks, unique_visitors FROM ";
constexpr const char* kSignups =
    "SELECT a.created_at, u.is_verified FROM link_attributions a JOIN users u ON u.id = "
    "a.user_id WHERE ";

struct Columns {
  std::vector<long long> first, second, third;
  void size_to_batch() {
    first.resize(kBatch);
    second.resize(kBatch);
    third.resize(kBatch);
  }
};

struct CodeDaySums {
  explicit CodeDaySums(soci::session& sql)
      : statement((sql.prepare << std::string(kDaySums) +
                                      "link_counters WHERE code_id = :code_id AND bucket_at >= "
                                      ":from_ms AND bucket_at < :to_ms GROUP BY 1",
                   use(base), use(length), use(code_id), use(base), use(end), into(rows.first),
                   into(rows.second), into(rows.third))) {}
  std::string code_id;
  long long base = 0, length = 1, end = 0;
  Columns rows;
  soci::statement statement;
};

struct CodeSignups {
  explicit CodeSignups(soci::session& sql)
      : statement((sql.prepare << std::string(kSignups) +
                                      "a.code_id = :code_id AND a.created_at >= :from_ms AND "
                                      "a.created_at < :to_ms",
                   use(code_id), use(from), use(to), into(at), into(verified))) {}
  std::string code_id;
  long long from = 0, to = 0;
  std::vector<long long> at;
  std::vector<int> verified;
  soci::statement statement;
};

// Runs `statement` (bound to `rows`) and visits each row.
void each_row(soci::statement& statement, Columns& rows,
              const std::function<void(long long, long long, long long)>& visit) {
  rows.size_to_batch();
  statement.execute();
  while (statement.fetch()) {
    for (std::size_t i = 0; i < rows.first.size(); ++i)
      visit(rows.first[i], rows.second[i], rows.third[i]);
  }
}

// Sums days [first, ...) that all last `length` ms and start at `base`:
// the database groups by (bucket_at - base) / length.
void sum_days(soci::session& sql, const std::string& code_id, long long base, long long end,
              long long length, std::size_t first, const DayVisitor& visit) {
  const auto visit_day = [&](long long day, long long clicks, long long unique) {
    visit(first + static_cast<std::size_t>(day), clicks, unique);
  };
  if (!code_id.empty()) {
    auto& query = db::cached<CodeDaySums>(sql);
    query.code_id = code_id;
    query.base = base;
    query.length = length;
    query.end = end;
    return each_row(query.statement, query.rows, visit_day);
  }
  Columns rows;
  soci::statement statement =
      (sql.prepare << std::string(kDaySums) +
                          "link_counters_all WHERE bucket_at >= :from_ms AND bucket_at < :to_ms "
                          "GROUP BY 1",
       use(base), use(length), use(base), use(end), into(rows.first), into(rows.second),
       into(rows.third));
  each_row(statement, rows, visit_day);
}

// Every bucket of [day_starts.front(), day_starts.back()), visited as the
// day it falls in (buckets start on quarter hours, as days do).
void read_buckets(soci::session& sql, const std::string& code_id,
                  const std::vector<long long>& day_starts, const DayVisitor& visit) {
  const auto visit_bucket = [&](long long bucket_at, long long clicks, long long unique) {
    const auto next = std::upper_bound(day_starts.begin(), day_starts.end(), bucket_at);
    visit(static_cast<std::size_t>(next - day_starts.begin() - 1), clicks, unique);
  };
  long long from = day_starts.front(), to = day_starts.back();
  Columns rows;
  soci::statement statement =
      code_id.empty()
          ? (sql.prepare
                 << std::string(kBuckets) +
                        "link_counters_all WHERE bucket_at >= :from_ms AND bucket_at < :to_ms",
             use(from), use(to), into(rows.first), into(rows.second), into(rows.third))
          : (sql.prepare << std::string(kBuckets) +
                                "link_counters WHERE code_id = :code_id AND bucket_at >= :from_ms "
                                "AND bucket_at < :to_ms",
             use(code_id), use(from), use(to), into(rows.first), into(rows.second),
             into(rows.third));
  each_row(statement, rows, visit_bucket);
}

}  // namespace

// PostgreSQL sums the quarter hours of each day, so a 90-day funnel reads
// 90 rows instead of 8,640: converting those rows from PostgreSQL's text
// results (strtoll) led the funnel's profile. Days of one length (a run
// between DST changes) are one grouped range read each. SQLite hands over
// integers without conversion and would sort to group (its CPU per funnel
// rose from 1.8 to 2.2 ms), so its buckets are summed here.
void click_days(soci::session& sql, const std::string& code_id,
                const std::vector<long long>& day_starts, const DayVisitor& visit) {
  if (day_starts.size() < 2) return;
  if (!db::is_postgresql(sql)) {
    return read_buckets(sql, code_id, day_starts, visit);
  }
  for (std::size_t first = 0; first + 1 < day_starts.size();) {
    const auto length = day_starts[first + 1] - day_starts[first];
    auto last = first + 1;
    while (last + 1 < day_starts.size() && day_starts[last + 1] - day_starts[last] == length)
      ++last;
    sum_days(sql, code_id, day_starts[first], day_starts[last], length, first, visit);
    first = last;
  }
}

void attributed_signups(soci::session& sql, const std::string& code_id, std::int64_t from_ms,
                        std::int64_t to_ms, const std::function<void(std::int64_t, bool)>& visit) {
  if (!code_id.empty()) {
    auto& query = db::cached<CodeSignups>(sql);
    query.code_id = code_id;
    query.from = from_ms;
    query.to = to_ms;
    return fetch_times(query.statement, query.at, query.verified, visit);
  }
  std::vector<long long> at;
  std::vector<int> verified;
  long long from = from_ms, to = to_ms;
  soci::statement statement =
      (sql.prepare << std::string(kSignups) + "a.created_at >= :from_ms AND a.created_at < :to_ms",
       use(from), use(to), into(at), into(verified));
  fetch_times(statement, at, verified, visit);
}

void all_referral_times(soci::session& sql, std::int64_t from_ms, std::int64_t to_ms,
                        const std::function<void(std::int64_t, bool)>& visit) {
  std::vector<long long> at;
  std::vector<int> successful;
  long long from = from_ms, to = to_ms;
  soci::statement statement = (sql.prepare << "SELECT created_at, CASE WHEN status = " +
                                                  db::literal(referral::referral_status::kSuccess) +
                                                  " THEN 1 ELSE 0 END FROM referrals WHERE "
                                                  "created_at >= :from_ms AND created_at < :to_ms",
                               use(from), use(to), into(at), into(successful));
  fetch_times(statement, at, successful, visit);
}

std::vector<TopReferrer> top_by_clicks(soci::session& sql, std::int64_t from_ms, std::int64_t to_ms,
                                       int limit) {
  TopReferrer row;
  long long from = from_ms, to = to_ms;
  soci::statement statement =
      (sql.prepare << "SELECT c.user_id, u.email, t.clicks FROM ("
                      "SELECT code_id, CAST(SUM(clicks) AS BIGINT) AS clicks FROM link_counters "
                      "WHERE bucket_at >= :from_ms AND bucket_at < :to_ms GROUP BY code_id "
                      "ORDER BY 2 DESC, code_id LIMIT :limit) t "
                      "JOIN referral_codes c ON c.id = t.code_id JOIN users u ON u.id = c.user_id "
                      "ORDER BY t.clicks DESC, c.user_id",
       use(from), use(to), use(limit), into(row.user_id), into(row.email), into(row.clicks));
  std::vector<TopReferrer> out;
  statement.execute();
  while (statement.fetch()) out.push_back(row);
  return out;
}

long long purge_clicks(soci::session& sql, std::int64_t before_ms, int limit) {
  long long before = before_ms;
  return db::affected_rows(sql,
                           "DELETE FROM link_clicks WHERE id IN "
                           "(SELECT id FROM link_clicks WHERE at < :before_ms LIMIT :limit)",
                           use(before), use(limit));
}

long long purge_visitors(soci::session& sql, std::int64_t before_day_ms) {
  long long before = before_day_ms;
  return db::affected_rows(sql, "DELETE FROM link_visitors WHERE day < :before_day", use(before));
}

}  // namespace links::store
