#include <gtest/gtest.h>

#include <limits>

#include "db/checked_sum.hpp"

namespace {

constexpr long long kMax = std::numeric_limits<long long>::max();
constexpr long long kMin = std::numeric_limits<long long>::min();
constexpr long long kLow = 1LL << 32;

// The partial sums SQL would return for `values`.
long long joined(std::initializer_list<long long> values) {
  long long high = 0, low = 0;
  for (const auto value : values) {
    const auto split = db::split_value(value);
    high += split.high;
    low += split.low;
  }
  return db::join_split_sum(high, low);
}

TEST(CheckedSum, IsExactWithinRange) {
  EXPECT_EQ(joined({}), 0);
  EXPECT_EQ(joined({100, 250}), 350);
  EXPECT_EQ(joined({4'000'000'000'000'000'000, 4'000'000'000'000'000'000}),
            8'000'000'000'000'000'000);
  EXPECT_EQ(joined({kMax}), kMax);
  EXPECT_EQ(joined({kMax - 5, 5}), kMax);
  EXPECT_EQ(joined({-7, 3}), -4);
  EXPECT_EQ(joined({kMin}), kMin);
}

TEST(CheckedSum, SaturatesPastEitherEnd) {
  EXPECT_EQ(joined({kMax, 1}), kMax);
  EXPECT_EQ(joined({1LL << 62, 1LL << 62, 1LL << 62}), kMax);
  EXPECT_EQ(joined({kMin, -1}), kMin);
  EXPECT_EQ(joined({kMin, kMin}), kMin);
}

TEST(CheckedSum, SplitsAValueAsSqlDoes) {
  EXPECT_EQ(db::split_value(kLow + 5).high, 1);
  EXPECT_EQ(db::split_value(kLow + 5).low, 5);
  EXPECT_EQ(db::split_value(-kLow - 5).high, -1);  // toward zero, as SQL's / and %
  EXPECT_EQ(db::split_value(-kLow - 5).low, -5);
  EXPECT_EQ(db::split_value(kMax).high * kLow + db::split_value(kMax).low, kMax);
}

TEST(CheckedSum, NamesTheColumnInBothPartialSums) {
  const auto sql = db::split_sum("reward_value");
  EXPECT_EQ(sql,
            "CAST(COALESCE(SUM(reward_value / 4294967296), 0) AS BIGINT), "
            "CAST(COALESCE(SUM(reward_value % 4294967296), 0) AS BIGINT)");
}

}  // namespace
