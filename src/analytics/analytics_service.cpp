#include "analytics/analytics_service.hpp"

#include <algorithm>

#include "analytics/local_days.hpp"
#include "core/api_error.hpp"
#include "core/clock.hpp"
#include "core/log.hpp"
#include "referral/referrer_stats.hpp"

namespace analytics {

namespace {

std::vector<TimelineDay> non_empty_days(const DayRange& range, const std::vector<TimelineDay>& buckets) {
  std::vector<TimelineDay> out;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    if (buckets[i].count == 0) continue;
    out.push_back(buckets[i]);
    out.back().date = format_day(range.first + static_cast<DayNumber>(i));
  }
  return out;
}

}  // namespace

std::string conversion_rate(long long successful, long long total) {
  if (total <= 0) return "0%";
  return std::to_string(successful * 100 / total) + "%";
}

namespace {

Summary with_rate(const store::Summary& stored) {
  return {stored.code,    stored.total,  stored.successful,
          stored.pending, stored.clicks, conversion_rate(stored.successful, stored.total)};
}

}  // namespace

AnalyticsService::AnalyticsService(db::Database& database,
                                   std::chrono::milliseconds leaderboard_max_age)
    : database_(database) {
  if (!preload_time_zones()) core::log::warn("no time zone database (tzdata): timelines accept only ±HH:MM offsets");
  if (leaderboard_max_age.count() > 0) {
    leaderboard_ =
        std::make_unique<LeaderboardCache>(leaderboard_max_age, referral::stats_generation, [this] {
          return database_.read(
              [](soci::session& sql) { return store::top_referrers(sql, kTopMost); });
        });
  }
}

Summary AnalyticsService::summary(const std::string& user_id) {
  return with_rate(
      database_.read([&](soci::session& sql) { return store::summary(sql, user_id); }));
}

db::PipelinedQuery AnalyticsService::summary_query(const std::string& user_id) const {
  return store::summary_query(user_id);
}

Summary AnalyticsService::summary_from(const db::ResultRows& rows) const {
  return with_rate(store::summary_from(rows));
}

db::PipelinedQuery AnalyticsService::referrals_query(const std::string& referrer_id,
                                                     const std::optional<core::Cursor>& after,
                                                     int limit) const {
  return store::referrals_query(referrer_id, after, limit);
}

std::vector<store::ReferralRowView> AnalyticsService::referrals_from(
    const db::ResultRows& rows) const {
  return store::referrals_from(rows);
}

std::vector<store::ReferralRow> AnalyticsService::referrals(const std::string& referrer_id,
                                                            const std::optional<core::Cursor>& after, int limit) {
  return database_.read([&](soci::session& sql) { return store::referrals_of(sql, referrer_id, after, limit); });
}

std::vector<TimelineDay> AnalyticsService::timeline(const std::string& referrer_id, const TimelineQuery& query) {
  const auto zone = LocalZone::parse(query.tz.value_or("UTC"));
  const auto range = day_range(query.from, query.to, zone);
  const auto starts = day_starts(range, zone);
  std::vector<TimelineDay> buckets(starts.size() - 1);
  database_.read([&](soci::session& sql) {
    store::referral_times(sql, referrer_id, starts.front(), starts.back(), [&](long long at, bool successful) {
      const auto next = std::upper_bound(starts.begin(), starts.end(), at);
      if (next == starts.begin() || next == starts.end()) return;  // outside the range (cannot happen)
      auto& bucket = buckets[static_cast<std::size_t>(next - starts.begin() - 1)];
      ++bucket.count;
      bucket.successful += successful ? 1 : 0;
    });
  });
  return non_empty_days(range, buckets);
}

std::vector<store::Leader> AnalyticsService::top(int limit) {
  if (!leaderboard_)
    return database_.read([&](soci::session& sql) { return store::top_referrers(sql, limit); });
  // Any shorter list is a prefix of the longest: the order is total (ties
  // go by user_id).
  const auto rows = leaderboard_->rows();
  return {rows->begin(), rows->begin() + std::min<std::ptrdiff_t>(
                                             limit, static_cast<std::ptrdiff_t>(rows->size()))};
}

store::Totals AnalyticsService::totals() {
  return database_.read([](soci::session& sql) { return store::totals(sql); });
}

db::PipelinedQuery AnalyticsService::totals_query() const {
  return store::totals_query();
}

store::Totals AnalyticsService::totals_from(const db::ResultRows& rows) const {
  return store::totals_from(rows);
}

}  // namespace analytics
