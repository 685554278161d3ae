#include "db/checked_sum.hpp"

#include <limits>

namespace db {

namespace {
constexpr long long kLowRange = 1LL << 32;
}  // namespace

std::string split_sum(const std::string& column) {
  // Integer division and remainder truncate toward zero on both engines, so
  // value = (value / 2^32) * 2^32 + value % 2^32 for negative values too.
  const auto range = std::to_string(kLowRange);
  return "CAST(COALESCE(SUM(" + column + " / " + range + "), 0) AS BIGINT), CAST(COALESCE(SUM(" +
         column + " % " + range + "), 0) AS BIGINT)";
}

SplitValue split_value(long long value) {
  return {value / kLowRange, value % kLowRange};
}

long long join_split_sum(long long high, long long low) {
  long long scaled = 0;
  long long total = 0;
  if (__builtin_mul_overflow(high, kLowRange, &scaled) ||
      __builtin_add_overflow(scaled, low, &total)) {
    return high < 0 ? std::numeric_limits<long long>::min() : std::numeric_limits<long long>::max();
  }
  return total;
}

}  // namespace db
