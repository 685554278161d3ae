#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace date {
class time_zone;
}

// Calendar days as a client in some time zone sees them. The timeline counts
// referrals per *local* day, so a day's first instant depends on the zone and,
// across daylight-saving changes, on the date: it is computed from the tz
// database (Debian's tzdata through libdate-tz), never assumed to be 24 h.
namespace analytics {

// A civil date as days since 1970-01-01 (negative before).
using DayNumber = std::int64_t;

// Strict YYYY-MM-DD of a real calendar date (years 1900..9999); nullopt otherwise.
std::optional<DayNumber> parse_date(std::string_view text);
std::string format_day(DayNumber day);

class LocalZone {
 public:
  // An IANA name ("Asia/Kolkata", "UTC") or a fixed offset "±HH:MM".
  // Throws ApiError 400 validation_error naming `tz` otherwise.
  static LocalZone parse(std::string_view text);

  // The first instant (ms since the epoch, UTC) of the local date `day`:
  // local midnight, or the end of the gap when a DST jump skips midnight.
  std::int64_t day_start_ms(DayNumber day) const;
  // The local date of an instant.
  DayNumber day_of(std::int64_t epoch_ms) const;

 private:
  const date::time_zone* zone_ = nullptr;  // null: a fixed offset
  std::int64_t offset_ms_ = 0;
};

// The days from..to (inclusive) of a dated query such as the timeline:
// `to` defaults to today in the zone, `from` to 29 days before `to`.
// Throws ApiError 400 validation_error for a bad date, `from` after `to`, or
// more than 366 days.
struct DayRange {
  DayNumber first = 0;
  DayNumber last = 0;
};
DayRange day_range(const std::optional<std::string>& from, const std::optional<std::string>& to,
                   const LocalZone& zone);
// starts[i] is the first instant of day first+i; the last entry ends the range.
std::vector<long long> day_starts(const DayRange& range, const LocalZone& zone);

// Loads the tz database once (it scans /usr/share/zoneinfo) so the first
// timeline request does not pay for it; false when it cannot be read.
bool preload_time_zones();

}  // namespace analytics
