#include "analytics/analytics_store.hpp"

#include <soci/soci.h>

#include "auth/user_counter.hpp"
#include "db/checked_sum.hpp"
#include "db/statement_cache.hpp"
#include "db/statements.hpp"
#include "referral/referral_status.hpp"

namespace analytics::store {

using soci::into;
using soci::use;

namespace {

// The user-facing views run on every dashboard load: each is prepared once
// per pooled session (db::cached) instead of on every call, which costs
// PostgreSQL a second round trip. A struct holds a query's bound variables
// and the statement bound to them.

// Each read that is also sent pipelined (db::PipelinedQuery) has its text in
// one constant, so both ways run the same statement.
//
// The summary starts from its parameter rather than from `users` (the caller
// is a signed-in user; a missing one reads as zeros either way), and reads
// the clicks through a subquery on link_totals' key: joined, PostgreSQL's
// generic plan hashed link_totals on every call when its statistics were
// stale. Both cut PostgreSQL's CPU per summary from 49-55 to 33-35 us
// (docs/PERFORMANCE.md, "The summary statement").
constexpr const char* kSummarySql =
    "SELECT c.code, COALESCE(s.total, 0), COALESCE(s.successful, 0), COALESCE(s.pending, 0), "
    "COALESCE((SELECT t.clicks FROM link_totals t WHERE t.code_id = c.id), 0) "
    "FROM (SELECT CAST(:user_id AS TEXT) AS id) u "
    "LEFT JOIN referral_codes c ON c.user_id = u.id "
    "LEFT JOIN referrer_stats s ON s.user_id = u.id";

struct SummaryQuery {
  explicit SummaryQuery(soci::session& sql)
      : statement((sql.prepare << kSummarySql, use(user_id), into(code, code_indicator),
                   into(row.total), into(row.successful), into(row.pending), into(row.clicks))) {}
  std::string user_id;
  std::string code;
  soci::indicator code_indicator = soci::i_null;
  Summary row;
  soci::statement statement;
};

// The keyset condition is a row comparison so both engines turn it into one
// range on referrals_by_referrer (referrer_id, created_at, id) and start the
// page there instead of skipping the rows before it. The first page leaves it
// out rather than disabling it with a flag, which would hide the range from
// the planner.
#define REFERRAL_COLUMNS                                                                \
  "SELECT r.id, r.referee_id, r.referee_name, r.created_at, r.status FROM referrals r " \
  "WHERE r.referrer_id = :referrer_id "
#define NEWEST_FIRST "ORDER BY r.created_at DESC, r.id DESC LIMIT :limit"
constexpr const char* kFirstPageSql = REFERRAL_COLUMNS NEWEST_FIRST;
constexpr const char* kNextPageSql =
    REFERRAL_COLUMNS "AND (r.created_at, r.id) < (:after_time, :after_id) " NEWEST_FIRST;
#undef REFERRAL_COLUMNS
#undef NEWEST_FIRST

// A page comes in one batch of column vectors, not a fetch per row: SOCI's
// fetch per row and two copies of each row's strings (out of the `into`
// variables, then into the result) showed in the list page's profile on
// PostgreSQL, where malloc and free were about 9% of the samples
// (docs/PERFORMANCE.md, "Summary and list page after the profile").
struct ReferralPage {
  explicit ReferralPage(std::size_t batch)
      : ids(batch), referee_ids(batch), referee_names(batch), created_at(batch), statuses(batch) {}
  std::string referrer_id;
  long long after_time = 0;
  std::string after_id;
  int limit = 0;
  std::vector<std::string> ids, referee_ids, referee_names;
  std::vector<long long> created_at;  // BIGINT: soci's vector into keeps all 64 bits
  std::vector<std::string> statuses;
};

struct FirstPageQuery : ReferralPage {
  explicit FirstPageQuery(soci::session& sql)
      : ReferralPage(1),
        statement((sql.prepare << kFirstPageSql, use(referrer_id, "referrer_id"),
                   use(limit, "limit"), into(ids), into(referee_ids), into(referee_names),
                   into(created_at), into(statuses))) {}
  soci::statement statement;
};

struct NextPageQuery : ReferralPage {
  explicit NextPageQuery(soci::session& sql)
      : ReferralPage(1),
        statement((sql.prepare << kNextPageSql, use(referrer_id, "referrer_id"),
                   use(after_time, "after_time"), use(after_id, "after_id"), use(limit, "limit"),
                   into(ids), into(referee_ids), into(referee_names), into(created_at),
                   into(statuses))) {}
  soci::statement statement;
};

// Runs a page query with batches of `limit` rows (so the page is one batch)
// to its end (see all_rows) and moves each row's strings out of the batch.
std::vector<ReferralRow> page_rows(ReferralPage& page, soci::statement& statement) {
  const auto batch = static_cast<std::size_t>(page.limit);
  page.ids.resize(batch);  // the batch size is the vectors' size when the statement runs
  page.referee_ids.resize(batch);
  page.referee_names.resize(batch);
  page.created_at.resize(batch);
  page.statuses.resize(batch);
  std::vector<ReferralRow> out;
  out.reserve(batch);
  statement.execute();
  while (statement.fetch()) {
    for (std::size_t i = 0; i < page.ids.size(); ++i) {
      out.push_back({std::move(page.ids[i]), std::move(page.referee_ids[i]),
                     std::move(page.referee_names[i]), page.created_at[i],
                     std::move(page.statuses[i])});
    }
  }
  return out;
}

// Rows come in batches into vectors: a long timeline is thousands of rows,
// and one fetch per row costs more than the bucketing.
constexpr std::size_t kTimelineBatch = 512;

struct TimelineRows {
  explicit TimelineRows(soci::session& sql)
      : created_at(kTimelineBatch),
        successful(kTimelineBatch),
        statement((
            sql.prepare << "SELECT created_at, CASE WHEN status = " +
                               db::literal(referral::referral_status::kSuccess) +
                               " THEN 1 ELSE 0 END FROM referrals WHERE referrer_id = :referrer_id "
                               "AND created_at >= :from_ms AND created_at < :to_ms",
            use(referrer_id), use(from_ms), use(to_ms), into(created_at), into(successful))) {}
  std::string referrer_id;
  long long from_ms = 0, to_ms = 0;
  std::vector<long long> created_at;  // BIGINT: soci's vector into keeps all 64 bits
  std::vector<int> successful;
  soci::statement statement;
};

struct TopQuery {
  explicit TopQuery(soci::session& sql)
      : statement((sql.prepare << "SELECT s.user_id, u.name, u.email, s.successful, s.total FROM referrer_stats s "
                                  "JOIN users u ON u.id = s.user_id "
                                  "ORDER BY s.successful DESC, s.total DESC, s.user_id LIMIT :limit",
                   use(limit), into(row.user_id), into(row.name), into(row.email), into(row.successful),
                   into(row.total))) {}
  int limit = 0;
  Leader row;
  soci::statement statement;
};

// Runs a cached query to its end (on SQLite a statement left mid-way would
// keep the session's read snapshot open) and copies each row out.
template <class Row>
std::vector<Row> all_rows(soci::statement& statement, const Row& row) {
  std::vector<Row> out;
  statement.execute();
  while (statement.fetch()) out.push_back(row);
  return out;
}

// Admin stats, from the counters kept in the transactions that change the
// rows (migrations 0018 and 0019): counting a million users took 0.6 s,
// grouping 1.2M rewards 0.17 s on PostgreSQL and 0.6 s on SQLite
// (docs/PERFORMANCE.md). One statement for the three tables gives the totals
// one snapshot, and on PostgreSQL one round trip (sent pipelined, like the
// summary): three, each waking a db-lane thread and a backend, made the
// route's p99 on one connection the scheduler's (docs/PERFORMANCE.md,
// "Admin stats in one statement"). Each row: the table it sums, the counter's
// name (a status for rewards), the unit (rewards only), the count, and the
// value as its two partial sums (db::split_sum).
constexpr const char* kTotalsSql =
    "SELECT 'users', CAST(name AS TEXT), '', CAST(SUM(value) AS BIGINT), 0, 0 "
    "FROM user_counters GROUP BY name "
    "UNION ALL SELECT 'referrals', CAST(name AS TEXT), '', CAST(SUM(value) AS BIGINT), 0, 0 "
    "FROM referral_counters GROUP BY name "
    "UNION ALL SELECT 'rewards', CAST(status AS TEXT), CAST(unit AS TEXT), "
    "CAST(SUM(rewards) AS BIGINT), CAST(SUM(value_high) AS BIGINT), CAST(SUM(value_low) AS BIGINT) "
    "FROM reward_counters GROUP BY unit, status";

struct CounterSum {
  std::string table;
  std::string name;
  std::string unit;
  long long count = 0;
  long long value_high = 0;
  long long value_low = 0;
};

struct TotalsQuery {
  explicit TotalsQuery(soci::session& sql)
      : statement((sql.prepare << kTotalsSql, into(row.table), into(row.name), into(row.unit),
                   into(row.count), into(row.value_high), into(row.value_low))) {}
  CounterSum row;
  soci::statement statement;
};

void add_counter(Totals& totals, const CounterSum& sum) {
  if (sum.table == "users") {
    if (sum.name == auth::user_counter::kUsers) totals.users = sum.count;
    if (sum.name == auth::user_counter::kVerified) totals.verified_users = sum.count;
  } else if (sum.table == "referrals") {
    totals.referrals[sum.name] = sum.count;
  } else {
    totals.rewards[sum.unit][sum.name] = {sum.count,
                                          db::join_split_sum(sum.value_high, sum.value_low)};
  }
}

}  // namespace

Summary summary(soci::session& sql, const std::string& user_id) {
  auto& query = db::cached<SummaryQuery>(sql);
  query.user_id = user_id;
  query.row = {};
  query.code_indicator = soci::i_null;
  query.statement.execute(true);
  if (!query.statement.got_data()) return {};
  Summary out = query.row;
  if (query.code_indicator == soci::i_ok) out.code = query.code;
  db::finish_row(query.statement);
  return out;
}

db::PipelinedQuery summary_query(const std::string& user_id) {
  return {kSummarySql, {user_id}};
}

Summary summary_from(const db::ResultRows& rows) {
  if (rows.size() == 0) return {};
  Summary out{std::nullopt, rows.integer(0, 1), rows.integer(0, 2), rows.integer(0, 3),
              rows.integer(0, 4)};
  if (!rows.is_null(0, 0)) out.code = std::string(rows.text(0, 0));
  return out;
}

db::PipelinedQuery referrals_query(const std::string& referrer_id,
                                   const std::optional<core::Cursor>& after, int limit) {
  if (!after) return {kFirstPageSql, {referrer_id, std::to_string(limit)}};
  return {kNextPageSql,
          {referrer_id, std::to_string(after->created_at), after->id, std::to_string(limit)}};
}

std::vector<ReferralRowView> referrals_from(const db::ResultRows& rows) {
  std::vector<ReferralRowView> out;
  out.reserve(static_cast<std::size_t>(rows.size()));
  for (int i = 0; i < rows.size(); ++i) {
    out.push_back(
        {rows.text(i, 0), rows.text(i, 1), rows.text(i, 2), rows.integer(i, 3), rows.text(i, 4)});
  }
  return out;
}

std::vector<ReferralRow> referrals_of(soci::session& sql, const std::string& referrer_id,
                                      const std::optional<core::Cursor>& after, int limit) {
  if (!after) {
    auto& query = db::cached<FirstPageQuery>(sql);
    query.referrer_id = referrer_id;
    query.limit = limit;
    return page_rows(query, query.statement);
  }
  auto& query = db::cached<NextPageQuery>(sql);
  query.referrer_id = referrer_id;
  query.after_time = after->created_at;
  query.after_id = after->id;
  query.limit = limit;
  return page_rows(query, query.statement);
}

void referral_times(soci::session& sql, const std::string& referrer_id, long long from_ms, long long to_ms,
                    const std::function<void(long long, bool)>& visit) {
  auto& query = db::cached<TimelineRows>(sql);
  query.referrer_id = referrer_id;
  query.from_ms = from_ms;
  query.to_ms = to_ms;
  // The batch size is the vectors' size when the statement runs; the last
  // fetch of the previous call shrank them.
  query.created_at.resize(kTimelineBatch);
  query.successful.resize(kTimelineBatch);
  query.statement.execute();
  while (query.statement.fetch()) {  // to the end: see all_rows
    for (std::size_t i = 0; i < query.created_at.size(); ++i) visit(query.created_at[i], query.successful[i] != 0);
  }
}

std::vector<Leader> top_referrers(soci::session& sql, int limit) {
  auto& query = db::cached<TopQuery>(sql);
  query.limit = limit;
  return all_rows(query.statement, query.row);
}

Totals totals(soci::session& sql) {
  auto& query = db::cached<TotalsQuery>(sql);
  Totals out;
  query.statement.execute();
  while (query.statement.fetch()) add_counter(out, query.row);  // to the end: no open snapshot
  return out;
}

db::PipelinedQuery totals_query() {
  return {kTotalsSql, {}};
}

Totals totals_from(const db::ResultRows& rows) {
  Totals out;
  for (int i = 0; i < rows.size(); ++i) {
    add_counter(out, {std::string(rows.text(i, 0)), std::string(rows.text(i, 1)),
                      std::string(rows.text(i, 2)), rows.integer(i, 3), rows.integer(i, 4),
                      rows.integer(i, 5)});
  }
  return out;
}

}  // namespace analytics::store
