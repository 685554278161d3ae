#include <gtest/gtest.h>

#include "analytics/analytics_service.hpp"
#include "analytics/local_days.hpp"
#include "core/api_error.hpp"

using analytics::DayNumber;
using analytics::LocalZone;

namespace {

DayNumber day(const char* text) { return analytics::parse_date(text).value(); }

// 2026-03-08T05:00:00Z as epoch milliseconds, from the calendar.
std::int64_t utc(const char* date, int hour, int minute = 0) {
  return day(date) * 86'400'000LL + (hour * 60LL + minute) * 60'000LL;
}

void expect_refused(const char* zone) {
  try {
    LocalZone::parse(zone);
    FAIL() << "accepted " << zone;
  } catch (const core::ApiError& error) {
    EXPECT_EQ(error.status(), 400);
    EXPECT_EQ(error.code(), "validation_error");
  }
}

}  // namespace

TEST(LocalDays, ParsesOnlyRealCalendarDates) {
  EXPECT_EQ(day("1970-01-01"), 0);
  EXPECT_EQ(day("2024-02-29"), 19'782);
  EXPECT_EQ(analytics::format_day(day("2024-02-29")), "2024-02-29");
  for (const char* bad : {"2026-02-29", "2026-13-01", "2026-00-10", "2026-1-01", "20260101", "1899-12-31",
                          "2026-01-01T00:00", "", "abcd-ef-gh", "+026-01-01"}) {
    EXPECT_FALSE(analytics::parse_date(bad).has_value()) << bad;
  }
}

TEST(LocalDays, FixedOffsetsShiftMidnight) {
  const auto utc_zone = LocalZone::parse("UTC");
  EXPECT_EQ(utc_zone.day_start_ms(day("2026-03-10")), utc("2026-03-10", 0));
  const auto india = LocalZone::parse("+05:30");
  EXPECT_EQ(india.day_start_ms(day("2026-03-11")), utc("2026-03-10", 18, 30));
  EXPECT_EQ(india.day_of(utc("2026-03-10", 23, 30)), day("2026-03-11"));
  EXPECT_EQ(LocalZone::parse(" 05:30").day_of(utc("2026-03-10", 23, 30)), day("2026-03-11"));  // '+' as space
  EXPECT_EQ(LocalZone::parse("-03:30").day_of(utc("2026-03-11", 2)), day("2026-03-10"));
  EXPECT_EQ(LocalZone::parse("-00:00").day_start_ms(day("1969-12-31")), -86'400'000);
}

TEST(LocalDays, NamedZonesFollowDaylightSaving) {
  const auto new_york = LocalZone::parse("America/New_York");
  // Spring forward: a 23-hour day.
  EXPECT_EQ(new_york.day_start_ms(day("2026-03-08")), utc("2026-03-08", 5));
  EXPECT_EQ(new_york.day_start_ms(day("2026-03-09")), utc("2026-03-09", 4));
  // Fall back: a 25-hour day.
  EXPECT_EQ(new_york.day_start_ms(day("2026-11-01")), utc("2026-11-01", 4));
  EXPECT_EQ(new_york.day_start_ms(day("2026-11-02")), utc("2026-11-02", 5));
  EXPECT_EQ(new_york.day_of(utc("2026-11-02", 4, 30)), day("2026-11-01"));
  EXPECT_EQ(LocalZone::parse("Asia/Kolkata").day_of(utc("2026-03-10", 23, 30)), day("2026-03-11"));
}

TEST(LocalDays, ADayWhoseMidnightIsSkippedStartsAtTheJump) {
  // Santiago moves from 00:00 -04 to 01:00 -03 on 2026-09-06; Beirut from
  // 00:00 +02 to 01:00 +03 on 2026-03-29.
  const auto santiago = LocalZone::parse("America/Santiago");
  EXPECT_EQ(santiago.day_start_ms(day("2026-09-06")), utc("2026-09-06", 4));
  EXPECT_EQ(santiago.day_start_ms(day("2026-09-07")), utc("2026-09-07", 3));
  EXPECT_EQ(LocalZone::parse("Asia/Beirut").day_start_ms(day("2026-03-29")), utc("2026-03-28", 22));
}

TEST(LocalDays, RefusesWhatIsNotAZone) {
  for (const char* bad : {"", "Mars/Olympus_Mons", "+25:00", "+05:60", "0530", "+5:30", "../../etc/passwd",
                          "/usr/share/zoneinfo/UTC", "Europe/Paris\n", "utc/../UTC"}) {
    expect_refused(bad);
  }
}

TEST(ConversionRate, IsAWholePercentRoundedDown) {
  EXPECT_EQ(analytics::conversion_rate(0, 0), "0%");
  EXPECT_EQ(analytics::conversion_rate(2, 3), "66%");
  EXPECT_EQ(analytics::conversion_rate(1, 3), "33%");
  EXPECT_EQ(analytics::conversion_rate(5, 5), "100%");
  EXPECT_EQ(analytics::conversion_rate(1, 1000), "0%");
}
