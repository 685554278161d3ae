#include "core/log.hpp"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <iostream>

#include "core/clock.hpp"

namespace core::log {

namespace {

spdlog::logger& logger() {
  static auto instance = [] {
    // Not spdlog's stdout sink: it fflush()es after every line, one write(2)
    // per request. std::cout goes through stdio's own buffer instead (line
    // buffered on a terminal, block buffered into a file or pipe).
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(std::cout);
    auto made = std::make_shared<spdlog::logger>("referrald", sink);
    made->set_pattern("%v");
    // One write per request line would cost more than the request itself:
    // stdout is buffered, flushed each second, at once for warnings and
    // errors, and on flush().
    made->flush_on(spdlog::level::warn);
    spdlog::register_logger(made);
    spdlog::flush_every(std::chrono::seconds(1));
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
  if (level == "error") logger().error(boost::json::serialize(line));
  else if (level == "warn") logger().warn(boost::json::serialize(line));
  else logger().info(boost::json::serialize(line));
}

void flush() { logger().flush(); }

void info(std::string_view message) { event("info", {{"msg", message}}); }
void warn(std::string_view message) { event("warn", {{"msg", message}}); }
void error(std::string_view message) { event("error", {{"msg", message}}); }

}  // namespace core::log
