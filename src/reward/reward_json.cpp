#include "reward/reward_json.hpp"

#include "core/clock.hpp"

namespace reward {

namespace {
boost::json::value optional_time(const std::optional<long long>& at) {
  if (!at) return nullptr;
  return boost::json::value(core::format_timestamp(*at));
}
}  // namespace

boost::json::object reward_json(const store::Reward& reward, bool with_user, boost::json::storage_ptr storage) {
  boost::json::object out({{"reward_id", reward.id},
                           {"referral_id", reward.referral_id},
                           {"reward_type", reward.reward_type},
                           {"reward_value", reward.reward_value},
                           {"reward_unit", reward.reward_unit},
                           {"beneficiary", reward.beneficiary},
                           {"status", reward.status},
                           {"created_at", core::format_timestamp(reward.created_at)},
                           {"credited_at", optional_time(reward.credited_at)},
                           {"revoked_at", optional_time(reward.revoked_at)}},
                          std::move(storage));
  if (with_user) out["user_id"] = reward.user_id;
  return out;
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
