#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace core {

// Milliseconds since the Unix epoch, UTC: the one time unit stored anywhere.
std::int64_t now_ms();

// "2026-11-24T13:05:00.123Z"
std::string format_timestamp(std::int64_t epoch_ms);
// The same text written at `out`, which has room for kTimestampCapacity
// bytes; returns its end. For loops over many rows (no allocation each).
constexpr std::size_t kTimestampCapacity = 40;
char* put_timestamp(char* out, std::int64_t epoch_ms);

// Reads format_timestamp's form ("2026-11-24T13:05:00Z", milliseconds
// optional); nullopt for anything else, including impossible dates.
std::optional<std::int64_t> parse_timestamp(std::string_view text);

// "2026-11-24" for the UTC day of the given instant.
std::string format_date(std::int64_t epoch_ms);

constexpr std::int64_t kMsPerSecond = 1000;
constexpr std::int64_t kMsPerMinute = 60 * kMsPerSecond;
constexpr std::int64_t kMsPerHour = 60 * kMsPerMinute;
constexpr std::int64_t kMsPerDay = 24 * kMsPerHour;

}  // namespace core
