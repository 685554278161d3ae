#pragma once
#include <boost/json/object.hpp>
#include <string_view>

namespace core::log {

// Every log line is one JSON object on stdout: {"ts", "level", "msg", ...}.
void info(std::string_view message);
void warn(std::string_view message);
void error(std::string_view message);
void event(std::string_view level, boost::json::object fields);  // fields gain ts and level
// Info lines are buffered (flushed each second); call this when a reader
// waits for a line now, e.g. the console mail backend.
void flush();

}  // namespace core::log
