#include "analytics/analytics_store.hpp"

#include <soci/soci.h>

namespace analytics::store {

using soci::into;
using soci::use;

namespace {

// The keyset condition is a row comparison so both engines turn it into one
// range on referrals_by_referrer (referrer_id, created_at, id) and start the
// page there instead of skipping the rows before it. The first page leaves it
// out rather than disabling it with a flag, which would hide the range from
// the planner.
constexpr const char* kReferralsFirstPage =
    "SELECT r.id, r.referee_id, u.name, r.created_at, r.status FROM referrals r "
    "JOIN users u ON u.id = r.referee_id WHERE r.referrer_id = :referrer_id "
    "ORDER BY r.created_at DESC, r.id DESC LIMIT :limit";
constexpr const char* kReferralsAfter =
    "SELECT r.id, r.referee_id, u.name, r.created_at, r.status FROM referrals r "
    "JOIN users u ON u.id = r.referee_id WHERE r.referrer_id = :referrer_id "
    "AND (r.created_at, r.id) < (:after_time, :after_id) "
    "ORDER BY r.created_at DESC, r.id DESC LIMIT :limit";

void add_user_totals(soci::session& sql, Totals& totals) {
  sql << "SELECT COUNT(*), CAST(COALESCE(SUM(is_verified), 0) AS BIGINT) FROM users", into(totals.users),
      into(totals.verified_users);
}

// The per-referrer counters sum to the per-status totals (they move in the
// same transactions as the referrals), and the table has one row per
// referrer instead of one per referral.
void add_referral_totals(soci::session& sql, Totals& totals) {
  long long pending = 0, successful = 0, rejected = 0;
  sql << "SELECT CAST(COALESCE(SUM(pending), 0) AS BIGINT), CAST(COALESCE(SUM(successful), 0) AS BIGINT), "
         "CAST(COALESCE(SUM(rejected), 0) AS BIGINT) FROM referrer_stats",
      into(pending), into(successful), into(rejected);
  totals.referrals = {{"PENDING", pending}, {"SUCCESS", successful}, {"REJECTED", rejected}};
}

void add_reward_totals(soci::session& sql, Totals& totals) {
  std::string unit, status;
  Totals::Amount amount;
  soci::statement statement =
      (sql.prepare << "SELECT reward_unit, status, COUNT(*), CAST(SUM(reward_value) AS BIGINT) FROM rewards "
                      "GROUP BY reward_unit, status",
       into(unit), into(status), into(amount.count), into(amount.value));
  statement.execute();
  while (statement.fetch()) totals.rewards[unit][status] = amount;
}

}  // namespace

Summary summary(soci::session& sql, const std::string& user_id) {
  Summary out;
  std::string code;
  soci::indicator code_indicator = soci::i_null;
  sql << "SELECT c.code, COALESCE(s.total, 0), COALESCE(s.successful, 0), COALESCE(s.pending, 0) "
         "FROM users u LEFT JOIN referral_codes c ON c.user_id = u.id "
         "LEFT JOIN referrer_stats s ON s.user_id = u.id WHERE u.id = :user_id",
      use(user_id), into(code, code_indicator), into(out.total), into(out.successful), into(out.pending);
  if (sql.got_data() && code_indicator == soci::i_ok) out.code = code;
  return out;
}

std::vector<ReferralRow> referrals_of(soci::session& sql, const std::string& referrer_id,
                                      const std::optional<core::Cursor>& after, int limit) {
  ReferralRow row;
  auto query = after ? (sql.prepare << kReferralsAfter, use(referrer_id, "referrer_id"),
                        use(after->created_at, "after_time"), use(after->id, "after_id"))
                     : (sql.prepare << kReferralsFirstPage, use(referrer_id, "referrer_id"));
  soci::statement statement = (query, use(limit, "limit"), into(row.id), into(row.referee_id),
                               into(row.referee_name), into(row.created_at), into(row.status));
  std::vector<ReferralRow> out;
  statement.execute();
  while (statement.fetch()) out.push_back(row);
  return out;
}

void referral_times(soci::session& sql, const std::string& referrer_id, long long from_ms, long long to_ms,
                    const std::function<void(long long, bool)>& visit) {
  long long created_at = 0;
  int successful = 0;
  soci::statement statement =
      (sql.prepare << "SELECT created_at, CASE WHEN status = 'SUCCESS' THEN 1 ELSE 0 END FROM referrals "
                      "WHERE referrer_id = :referrer_id AND created_at >= :from_ms AND created_at < :to_ms",
       use(referrer_id), use(from_ms), use(to_ms), into(created_at), into(successful));
  statement.execute();
  while (statement.fetch()) visit(created_at, successful != 0);
}

std::vector<Leader> top_referrers(soci::session& sql, int limit) {
  Leader row;
  soci::statement statement =
      (sql.prepare << "SELECT s.user_id, u.name, u.email, s.successful, s.total FROM referrer_stats s "
                      "JOIN users u ON u.id = s.user_id "
                      "ORDER BY s.successful DESC, s.total DESC, s.user_id LIMIT :limit",
       use(limit), into(row.user_id), into(row.name), into(row.email), into(row.successful), into(row.total));
  std::vector<Leader> out;
  statement.execute();
  while (statement.fetch()) out.push_back(row);
  return out;
}

Totals totals(soci::session& sql) {
  Totals out;
  add_user_totals(sql, out);
  add_referral_totals(sql, out);
  add_reward_totals(sql, out);
  return out;
}

}  // namespace analytics::store
