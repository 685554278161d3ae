#include "webhook/webhook_payload.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include "core/clock.hpp"

namespace webhook {

const std::vector<std::string>& subscribable_types() {
  static const std::vector<std::string> types = {
      "user.verified",  "referral.created", "referral.flagged", "referral.status_changed",
      "reward.created", "reward.credited",  "reward.revoked",   "milestone.reached"};
  return types;
}

bool subscribes(std::string_view events, std::string_view type) {
  if (events == "*") return true;
  std::size_t start = 0;
  while (start <= events.size()) {
    const auto end = std::min(events.find(' ', start), events.size());
    if (events.substr(start, end - start) == type) return true;
    start = end + 1;
  }
  return false;
}

std::string payload_json(const std::string& event_id, const std::string& type,
                         std::int64_t created_at_ms, const std::string& data_json) {
  const auto quoted = [](std::string_view text) {
    return boost::json::serialize(boost::json::string(text));
  };
  return "{\"id\":" + quoted(event_id) + ",\"type\":" + quoted(type) +
         ",\"created_at\":" + quoted(core::format_timestamp(created_at_ms)) +
         ",\"data\":" + data_json + "}";
}

}  // namespace webhook
