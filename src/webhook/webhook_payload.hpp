#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

// What a webhook says: its event types and the body of a delivery.
namespace webhook {

inline constexpr std::string_view kTestEventType = "webhook.test";

// The domain event types an endpoint may subscribe to (docs/API.md, Webhooks).
const std::vector<std::string>& subscribable_types();

// `events` is the stored list: space-separated types, or "*".
bool subscribes(std::string_view events, std::string_view type);

// {"id","type","created_at","data"}; `data_json` is inserted as it is.
std::string payload_json(const std::string& event_id, const std::string& type,
                         std::int64_t created_at_ms, const std::string& data_json);

}  // namespace webhook
