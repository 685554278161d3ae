#pragma once
#include <soci/session.h>

#include "reward/milestone_store.hpp"
#include "reward/reward_store.hpp"

namespace reward {

// Publishes milestone.reached on the event spine, in the caller's transaction:
// data {"milestone": Milestone, "user_id", "reward": Reward with user_id}.
void publish_milestone_reached(soci::session& sql, const store::Milestone& milestone,
                               const store::Reward& reward);

}  // namespace reward
