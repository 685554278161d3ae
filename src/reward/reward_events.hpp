#pragma once
#include <soci/session.h>

#include <string_view>

#include "reward/reward_store.hpp"

namespace reward {

// Publishes `type` (reward.created, reward.credited or reward.revoked) on the
// event spine inside the caller's transaction; the data is the Reward as
// the API shows it (docs/API.md, Rewards) with the beneficiary's user_id.
void publish_reward_event(soci::session& sql, std::string_view type, const store::Reward& reward,
                          long long now);

}  // namespace reward
