#pragma once
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/json_writer.hpp"

#include "reward/milestone_store.hpp"
#include "reward/reward_store.hpp"

namespace reward {

// The `Reward` shape of docs/API.md; `with_user` adds user_id for admin views.
void write_reward(core::JsonWriter& out, const store::Reward& reward, bool with_user = false);
boost::json::object config_json(const store::Config& config);
boost::json::object milestone_json(const store::Milestone& milestone);
// The `Balance` answer: pending and credited per unit, 0 where there is none.
boost::json::object balance_json(const store::Balances& sums);

// What the `Event` answer says (docs/API.md, Events).
struct EventAnswer {
  std::string event_id;
  std::string type;
  std::string external_id;
  std::string user_id;
  std::optional<long long> amount;
  std::optional<std::string> currency;
  std::optional<std::string> referral_id = std::nullopt;  // none: the user was never referred
  std::vector<store::Reward> rewards = {};                // what the event granted
};
// The body is stored with the event: a repeat answers it byte for byte.
std::string event_json(const EventAnswer& answer);

}  // namespace reward
