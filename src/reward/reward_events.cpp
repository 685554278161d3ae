#include "reward/reward_events.hpp"

#include "core/json_writer.hpp"
#include "events/event_log.hpp"
#include "reward/reward_json.hpp"

namespace reward {

void publish_reward_event(soci::session& sql, std::string_view type, const store::Reward& reward,
                          long long now) {
  core::JsonWriter data;
  write_reward(data, reward, true);
  events::publish(sql, {std::string(type), reward.id, data.take()}, now);
}

}  // namespace reward
