#pragma once
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analytics/analytics_store.hpp"
#include "analytics/leaderboard_cache.hpp"
#include "db/database.hpp"

namespace analytics {

struct Summary {
  std::optional<std::string> code;
  long long total = 0;
  long long successful = 0;
  long long pending = 0;
  long long clicks = 0;
  std::string conversion_rate;  // "NN%"
};

struct TimelineQuery {
  std::optional<std::string> from;  // YYYY-MM-DD, local to tz
  std::optional<std::string> to;
  std::optional<std::string> tz;    // IANA name or ±HH:MM; UTC when absent
};

// The longest leaderboard a request may ask for; the cache holds this many.
constexpr int kTopMost = 100;

struct TimelineDay {
  std::string date;
  long long count = 0;
  long long successful = 0;
};

// Read-only views of referrals (docs/API.md: Analytics, and the admin top and stats).
class AnalyticsService {
 public:
  // `leaderboard_max_age` 0: every leaderboard read queries the database.
  AnalyticsService(db::Database& database, std::chrono::milliseconds leaderboard_max_age);

  Summary summary(const std::string& user_id);
  std::vector<store::ReferralRow> referrals(const std::string& referrer_id,
                                            const std::optional<core::Cursor>& after, int limit);
  // The same two reads for a pipelined connection (PostgreSQL), and their results.
  db::PipelinedQuery summary_query(const std::string& user_id) const;
  Summary summary_from(const db::ResultRows& rows) const;
  db::PipelinedQuery referrals_query(const std::string& referrer_id,
                                     const std::optional<core::Cursor>& after, int limit) const;
  std::vector<store::ReferralRowView> referrals_from(const db::ResultRows& rows) const;
  // Days ascending, days without referrals left out. 400 validation_error
  // for bad dates, a bad zone, from after to, or more than 366 days.
  std::vector<TimelineDay> timeline(const std::string& referrer_id, const TimelineQuery& query);
  // The first `limit` (1 to kTopMost) referrers, from the leaderboard cache
  // when it is on: a change this process committed shows at once, another
  // instance's within LEADERBOARD_MAX_AGE.
  std::vector<store::Leader> top(int limit);
  store::Totals totals();
  db::PipelinedQuery totals_query() const;
  store::Totals totals_from(const db::ResultRows& rows) const;

 private:
  db::Database& database_;
  std::unique_ptr<LeaderboardCache> leaderboard_;  // null when off
};

// successful/total as a whole percent, rounded down; "0%" when total is 0.
std::string conversion_rate(long long successful, long long total);

}  // namespace analytics
