#pragma once
#include <soci/session.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/cursor.hpp"
#include "db/pipelined_connection.hpp"

// SQL for the read-only analytics views. Every query reads a counter row by
// key or walks an index range; none aggregates over all referrals
// (docs/PERFORMANCE.md shows each plan).
namespace analytics::store {

struct Summary {
  std::optional<std::string> code;
  long long total = 0;
  long long successful = 0;
  long long pending = 0;
  long long clicks = 0;  // on the share link, all time
};
// The caller's code and counters (referral_codes, referrer_stats,
// link_totals); zeros when the user has referred nobody yet.
Summary summary(soci::session& sql, const std::string& user_id);
// The same read for a pipelined connection, and its row.
db::PipelinedQuery summary_query(const std::string& user_id);
Summary summary_from(const db::ResultRows& rows);

struct ReferralRow {
  std::string id;
  std::string referee_id;
  std::string referee_name;
  long long created_at = 0;
  std::string status;
};
// The referrer's referrals newest first, strictly after `after` in that order.
std::vector<ReferralRow> referrals_of(soci::session& sql, const std::string& referrer_id,
                                      const std::optional<core::Cursor>& after, int limit);
db::PipelinedQuery referrals_query(const std::string& referrer_id,
                                   const std::optional<core::Cursor>& after, int limit);
// A pipelined page's row: views into its ResultRows, valid while they live.
// Copying each id into a string, and again into the answer, was malloc and
// memmove in the list page's profile (docs/PERFORMANCE.md).
struct ReferralRowView {
  std::string_view id;
  std::string_view referee_id;
  std::string_view referee_name;
  long long created_at = 0;
  std::string_view status;
};
std::vector<ReferralRowView> referrals_from(const db::ResultRows& rows);

// Calls `visit(created_at, successful)` for each referral of the referrer
// created in [from_ms, to_ms), in no particular order.
void referral_times(soci::session& sql, const std::string& referrer_id, long long from_ms, long long to_ms,
                    const std::function<void(long long, bool)>& visit);

struct Leader {
  std::string user_id;
  std::string name;
  std::string email;
  long long successful = 0;
  long long total = 0;
};
std::vector<Leader> top_referrers(soci::session& sql, int limit);

struct Totals {
  long long users = 0;
  long long verified_users = 0;
  std::map<std::string, long long> referrals;  // status -> count
  struct Amount {
    long long count = 0;
    long long value = 0;  // saturated sum, see db::split_sum
  };
  std::map<std::string, std::map<std::string, Amount>> rewards;  // unit -> status -> amount
};
// Every counted name; one never counted is absent (zero for users).
Totals totals(soci::session& sql);
db::PipelinedQuery totals_query();
Totals totals_from(const db::ResultRows& rows);

}  // namespace analytics::store
