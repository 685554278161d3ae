#include "core/clock.hpp"

#include <charconv>
#include <chrono>

namespace core {

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

namespace {

std::chrono::year_month_day civil_day(std::int64_t epoch_ms) {
  using namespace std::chrono;
  return year_month_day{floor<days>(sys_time<milliseconds>{milliseconds{epoch_ms}})};
}

}  // namespace

namespace {

// Fixed-width digits, written by hand: snprintf was a measurable part of
// every list page (one timestamp per row).
char* put_digits(char* out, unsigned value, int width) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return out + width;
}

// ISO 8601's four digits, or as many as an odd imported date needs.
char* put_year(char* out, int year) {
  if (year >= 0 && year <= 9999) return put_digits(out, static_cast<unsigned>(year), 4);
  return std::to_chars(out, out + 12, year).ptr;
}

char* put_date(char* out, std::int64_t epoch_ms) {
  const auto ymd = civil_day(epoch_ms);
  out = put_year(out, static_cast<int>(ymd.year()));
  *out++ = '-';
  out = put_digits(out, static_cast<unsigned>(ymd.month()), 2);
  *out++ = '-';
  return put_digits(out, static_cast<unsigned>(ymd.day()), 2);
}

}  // namespace

std::string format_date(std::int64_t epoch_ms) {
  char buf[20];
  return std::string(buf, put_date(buf, epoch_ms));
}

char* put_timestamp(char* out, std::int64_t epoch_ms) {
  const std::int64_t ms_of_day = ((epoch_ms % kMsPerDay) + kMsPerDay) % kMsPerDay;
  out = put_date(out, epoch_ms);
  *out++ = 'T';
  out = put_digits(out, static_cast<unsigned>(ms_of_day / kMsPerHour), 2);
  *out++ = ':';
  out = put_digits(out, static_cast<unsigned>(ms_of_day / kMsPerMinute % 60), 2);
  *out++ = ':';
  out = put_digits(out, static_cast<unsigned>(ms_of_day / kMsPerSecond % 60), 2);
  *out++ = '.';
  out = put_digits(out, static_cast<unsigned>(ms_of_day % kMsPerSecond), 3);
  *out++ = 'Z';
  return out;
}

std::string format_timestamp(std::int64_t epoch_ms) {
  char buf[kTimestampCapacity];
  return std::string(buf, put_timestamp(buf, epoch_ms));
}

namespace {

// The number in text[at, at + width) when all of it is digits.
std::optional<unsigned> digits_at(std::string_view text, std::size_t at, std::size_t width) {
  unsigned value = 0;
  const auto* begin = text.data() + at;
  const auto [end, ec] = std::from_chars(begin, begin + width, value);
  if (ec != std::errc() || end != begin + width) return std::nullopt;
  return value;
}

}  // namespace

std::optional<std::int64_t> parse_timestamp(std::string_view text) {
  using namespace std::chrono;
  const bool with_ms = text.size() == 24 && text[19] == '.';
  if ((text.size() != 20 && !with_ms) || text.back() != 'Z' || text[4] != '-' || text[7] != '-' ||
      text[10] != 'T' || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  const auto year = digits_at(text, 0, 4), month = digits_at(text, 5, 2),
             day = digits_at(text, 8, 2);
  const auto hour = digits_at(text, 11, 2), minute = digits_at(text, 14, 2),
             second = digits_at(text, 17, 2);
  const auto millis = with_ms ? digits_at(text, 20, 3) : std::optional<unsigned>(0);
  if (!year || !month || !day || !hour || !minute || !second || !millis) return std::nullopt;
  const year_month_day date{std::chrono::year(static_cast<int>(*year)), std::chrono::month(*month),
                            std::chrono::day(*day)};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  const auto at =
      sys_days(date) + hours(*hour) + minutes(*minute) + seconds(*second) + milliseconds(*millis);
  return at.time_since_epoch().count();
}

}  // namespace core
