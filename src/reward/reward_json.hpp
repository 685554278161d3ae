#pragma once
#include <boost/json/object.hpp>

#include "core/json_writer.hpp"

#include "reward/milestone_store.hpp"
#include "reward/reward_store.hpp"

namespace reward {

// The `Reward` shape of docs/API.md; `with_user` adds user_id for admin views.
void write_reward(core::JsonWriter& out, const store::Reward& reward, bool with_user = false);
boost::json::object config_json(const store::Config& config);
boost::json::object milestone_json(const store::Milestone& milestone);

}  // namespace reward
