#include "analytics/local_days.hpp"

#include <date/tz.h>

#include <chrono>
#include <cstdio>

#include "core/api_error.hpp"
#include "core/clock.hpp"

namespace analytics {

namespace {

using std::chrono::milliseconds;

constexpr std::int64_t kMsPerDay = 86'400'000;
constexpr std::int64_t kMsPerMinute = 60'000;
constexpr int kMaxOffsetHours = 18;  // ISO 8601's bound; real zones stay within -12..+14
constexpr std::size_t kMaxZoneName = 64;

std::optional<int> digits(std::string_view text) {
  int value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

core::ApiError bad_zone() {
  return core::validation_error("'tz' must be an IANA time zone name (e.g. Europe/Paris) or an offset ±HH:MM.");
}

// "+05:30" -> 19'800'000. Query strings may turn an unescaped '+' into a
// space, so a leading space is read as '+'.
std::optional<std::int64_t> parse_offset_ms(std::string_view text) {
  if (text.size() != 6 || text[3] != ':') return std::nullopt;
  const char sign = text[0];
  if (sign != '+' && sign != '-' && sign != ' ') return std::nullopt;
  const auto hours = digits(text.substr(1, 2));
  const auto minutes = digits(text.substr(4, 2));
  if (!hours || !minutes || *hours > kMaxOffsetHours || *minutes > 59) return std::nullopt;
  const std::int64_t magnitude = (*hours * 60 + *minutes) * kMsPerMinute;
  return sign == '-' ? -magnitude : magnitude;
}

// Only names that can be zone names reach the tz database.
bool plausible_zone_name(std::string_view text) {
  if (text.empty() || text.size() > kMaxZoneName || text.front() == '/') return false;
  if (text.find("..") != std::string_view::npos) return false;
  for (const char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '/' ||
                    c == '_' || c == '+' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::int64_t floor_div(std::int64_t value, std::int64_t divisor) {
  const auto quotient = value / divisor;
  return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient;
}

constexpr DayNumber kDefaultDays = 30;
constexpr DayNumber kMaxDays = 366;  // a leap year, both ends included

DayNumber date_param(const std::optional<std::string>& text, const std::string& field, DayNumber fallback) {
  if (!text) return fallback;
  const auto day = parse_date(*text);
  if (!day) throw core::validation_error("'" + field + "' must be a date YYYY-MM-DD.");
  return *day;
}

}  // namespace

std::optional<DayNumber> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  const auto year = digits(text.substr(0, 4));
  const auto month = digits(text.substr(5, 2));
  const auto day = digits(text.substr(8, 2));
  if (!year || !month || !day || *year < 1900) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{*year}, std::chrono::month{static_cast<unsigned>(*month)},
                                        std::chrono::day{static_cast<unsigned>(*day)}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd}.time_since_epoch().count();
}

std::string format_day(DayNumber day) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

LocalZone LocalZone::parse(std::string_view text) {
  LocalZone zone;
  if (const auto offset = parse_offset_ms(text)) {
    zone.offset_ms_ = *offset;
    return zone;
  }
  if (!plausible_zone_name(text)) throw bad_zone();
  try {
    zone.zone_ = date::locate_zone(text);
  } catch (const std::exception&) {
    throw bad_zone();  // unknown name, or no tz database on this machine
  }
  return zone;
}

std::int64_t LocalZone::day_start_ms(DayNumber day) const {
  if (zone_ == nullptr) return day * kMsPerDay - offset_ms_;
  // `earliest` picks the first of two local midnights (clocks turned back
  // over midnight); a midnight skipped by a jump forward maps to the jump.
  const date::local_days local{date::days{day}};
  const auto start = zone_->to_sys(local, date::choose::earliest);
  return std::chrono::duration_cast<milliseconds>(start.time_since_epoch()).count();
}

DayNumber LocalZone::day_of(std::int64_t epoch_ms) const {
  if (zone_ == nullptr) return floor_div(epoch_ms + offset_ms_, kMsPerDay);
  const auto local = zone_->to_local(date::sys_time<milliseconds>{milliseconds{epoch_ms}});
  return date::floor<date::days>(local).time_since_epoch().count();
}

bool preload_time_zones() {
  try {
    return !date::get_tzdb().zones.empty();
  } catch (const std::exception&) {
    return false;
  }
}

// `to` defaults to today in the caller's zone, `from` to 29 days before `to`.
DayRange day_range(const std::optional<std::string>& from, const std::optional<std::string>& to,
                   const LocalZone& zone) {
  const DayNumber last = date_param(to, "to", zone.day_of(core::now_ms()));
  const DayNumber first = date_param(from, "from", last - (kDefaultDays - 1));
  if (first > last) throw core::validation_error("'from' must not be after 'to'.");
  if (last - first + 1 > kMaxDays) {
    throw core::validation_error("'from' to 'to' must span at most " + std::to_string(kMaxDays) + " days.");
  }
  return {first, last};
}

// starts[i] is the first instant of day first+i; the last entry ends the range.
std::vector<long long> day_starts(const DayRange& range, const LocalZone& zone) {
  std::vector<long long> starts;
  starts.reserve(static_cast<std::size_t>(range.last - range.first + 2));
  for (DayNumber day = range.first; day <= range.last + 1; ++day) starts.push_back(zone.day_start_ms(day));
  return starts;
}

}  // namespace analytics
