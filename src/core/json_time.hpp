#pragma once
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>

#include "core/clock.hpp"

namespace core {

// A timestamp (epoch milliseconds) as a boost::json value in the API's ISO
// 8601 form, or null: what JsonWriter::timestamp writes, for routes that
// build boost::json objects.
inline boost::json::value timestamp_json(std::optional<std::int64_t> epoch_ms) {
  return epoch_ms ? boost::json::value(format_timestamp(*epoch_ms)) : boost::json::value(nullptr);
}

}  // namespace core
