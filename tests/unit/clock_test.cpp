#include <gtest/gtest.h>

#include "core/clock.hpp"

namespace {

TEST(Clock, FormatsTimestampsAsUtcWithMilliseconds) {
  EXPECT_EQ(core::format_timestamp(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(core::format_timestamp(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(core::format_timestamp(951'782'400'000 - 1), "2000-02-28T23:59:59.999Z");
  EXPECT_EQ(core::format_timestamp(951'782'400'000 + 86'400'000), "2000-03-01T00:00:00.000Z");
  EXPECT_EQ(core::format_timestamp(253'402'300'799'999), "9999-12-31T23:59:59.999Z");
}

TEST(Clock, FormatsTimesBeforeTheEpoch) {
  EXPECT_EQ(core::format_timestamp(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(core::format_date(-86'400'000), "1969-12-31");
}

TEST(Clock, WritesYearsBeyondFourDigitsInFull) {
  EXPECT_EQ(core::format_date(253'402'300'800'000), "10000-01-01");
  EXPECT_EQ(core::format_date(-62'167'219'200'001), "-1-12-31");
}

}  // namespace

TEST(Clock, ParsesTheTimestampsItWrites) {
  EXPECT_EQ(core::parse_timestamp("2026-11-24T13:05:00.123Z"), 1795525500123);
  EXPECT_EQ(core::parse_timestamp("2026-11-24T13:05:00Z"), 1795525500000);
  EXPECT_EQ(core::parse_timestamp(core::format_timestamp(1795525500123)), 1795525500123);
  EXPECT_EQ(core::parse_timestamp("1970-01-01T00:00:00Z"), 0);
}

TEST(Clock, RefusesOtherTimestampShapes) {
  for (const char* text :
       {"", "2026-11-24", "2026-11-24T13:05:00", "2026-11-24 13:05:00Z", "2026-02-30T00:00:00Z",
        "2026-11-24T24:00:00Z", "2026-11-24T13:60:00Z", "2026-11-24T13:05:00.12Z",
        "2026-11-24T13:05:00+01:00", "+026-11-24T13:05:00Z", "2026-11-24T13:05:0aZ"}) {
    EXPECT_FALSE(core::parse_timestamp(text).has_value()) << text;
  }
}
