#include "reward/milestone_events.hpp"

#include <boost/json.hpp>

#include "core/json_writer.hpp"
#include "events/event_log.hpp"
#include "reward/reward_json.hpp"

namespace reward {

void publish_milestone_reached(soci::session& sql, const store::Milestone& milestone,
                               const store::Reward& reward) {
  core::JsonWriter reward_text;
  write_reward(reward_text, reward, true);
  const boost::json::object data{{"milestone", milestone_json(milestone)},
                                 {"user_id", reward.user_id},
                                 {"reward", boost::json::parse(reward_text.take())}};
  events::publish(sql,
                  {std::string(events::kMilestoneReached), reward.id, boost::json::serialize(data)},
                  reward.created_at);
}

}  // namespace reward
