#include "core/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>

#include "core/clock.hpp"

namespace core::log {

namespace {

spdlog::logger& logger() {
  static auto instance = [] {
    auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    auto made = std::make_shared<spdlog::logger>("referrald", sink);
    made->set_pattern("%v");
    made->flush_on(spdlog::level::trace);
    return made;
  }();
  return *instance;
}

}  // namespace

void event(std::string_view level, boost::json::object fields) {
  boost::json::object line;
  line["ts"] = format_timestamp(now_ms());
  line["level"] = level;
  for (auto& field : fields) line[field.key()] = std::move(field.value());
  logger().info(boost::json::serialize(line));
}

void info(std::string_view message) { event("info", {{"msg", message}}); }
void warn(std::string_view message) { event("warn", {{"msg", message}}); }
void error(std::string_view message) { event("error", {{"msg", message}}); }

}  // namespace core::log
