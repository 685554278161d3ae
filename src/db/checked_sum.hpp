#pragma once
#include <string>

namespace db {

// SUM over a BIGINT column overflows on either engine (SQLite raises
// "integer overflow", PostgreSQL's CAST of its numeric SUM raises 22003),
// and imported rows may hold values up to 2^63-1 (issue 12: balance and
// stats answered 500). So a sum is read as two exact partial sums, of the
// high and the low 32 bits of each value (each fits in 64 bits for up to
// 2^31 rows), and joined in C++ with checked arithmetic.

// Two select-list expressions: the partial sums of `column`, as BIGINT.
std::string split_sum(const std::string& column);

// high * 2^32 + low, saturated to the range of long long.
long long join_split_sum(long long high, long long low);

// One value as split_sum splits it (value = high * 2^32 + low, both
// truncated toward zero as in SQL): counters that keep a sum keep these two
// partial sums, and join them like split_sum's.
struct SplitValue {
  long long high = 0;
  long long low = 0;
};
SplitValue split_value(long long value);

}  // namespace db
