#include "core/clock.hpp"

#include <chrono>
#include <cstdio>

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

std::string format_date(std::int64_t epoch_ms) {
  const auto ymd = civil_day(epoch_ms);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

std::string format_timestamp(std::int64_t epoch_ms) {
  const std::int64_t ms_of_day = ((epoch_ms % kMsPerDay) + kMsPerDay) % kMsPerDay;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02d.%03dZ", format_date(epoch_ms).c_str(),
                static_cast<int>(ms_of_day / kMsPerHour),
                static_cast<int>(ms_of_day / kMsPerMinute % 60),
                static_cast<int>(ms_of_day / kMsPerSecond % 60),
                static_cast<int>(ms_of_day % kMsPerSecond));
  return buf;
}

}  // namespace core
