#pragma once
#include <boost/json/object.hpp>

#include "reward/reward_store.hpp"

namespace reward {

// The SPEC §4 `Reward` shape; `with_user` adds user_id for admin views.
boost::json::object reward_json(const store::Reward& reward, bool with_user = false,
                                boost::json::storage_ptr storage = {});
boost::json::object config_json(const store::Config& config);

}  // namespace reward
