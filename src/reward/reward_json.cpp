#include "reward/reward_json.hpp"

#include "core/clock.hpp"

namespace reward {

void write_reward(core::JsonWriter& out, const store::Reward& reward, bool with_user) {
  out.begin_object()
      .field("reward_id", reward.id)
      .field("referral_id", reward.referral_id)
      .field("reward_type", reward.reward_type)
      .field("reward_value", reward.reward_value)
      .field("reward_unit", reward.reward_unit)
      .field("beneficiary", reward.beneficiary)
      .field("status", reward.status)
      .key("created_at").timestamp(reward.created_at)
      .key("credited_at").timestamp(reward.credited_at)
      .key("revoked_at").timestamp(reward.revoked_at);
  if (with_user) out.field("user_id", reward.user_id);
  out.end_object();
}

boost::json::object config_json(const store::Config& config) {
  return {{"id", config.id},
          {"reward_type", config.reward_type},
          {"reward_value", config.reward_value},
          {"reward_unit", config.reward_unit},
          {"beneficiary", config.beneficiary},
          {"auto_credit", config.auto_credit},
          {"is_active", config.is_active},
          {"created_at", core::format_timestamp(config.created_at)}};
}

}  // namespace reward
