#include "reward/reward_json.hpp"

#include "core/clock.hpp"
#include "ledger/reward_status.hpp"

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
      .key("revoked_at").timestamp(reward.revoked_at)
      .key("available_at").timestamp(reward.available_at);
  if (with_user) out.field("user_id", reward.user_id);
  out.end_object();
}

namespace {

boost::json::value number_or_null(const std::optional<long long>& number) {
  if (!number) return nullptr;
  return *number;
}

}  // namespace

boost::json::object config_json(const store::Config& config) {
  const bool fixed = !config.percent_of_amount;
  return {{"id", config.id},
          {"reward_type", config.reward_type},
          {"reward_value", fixed ? boost::json::value(config.reward_value) : nullptr},
          {"percent_of_amount", number_or_null(config.percent_of_amount)},
          {"max_value", number_or_null(config.max_value)},
          {"reward_unit", config.reward_unit},
          {"beneficiary", config.beneficiary},
          {"auto_credit", config.auto_credit},
          {"hold_days", config.hold_days},
          {"max_rewards_per_referrer", number_or_null(config.max_rewards_per_referrer)},
          {"budget", number_or_null(config.budget)},
          {"budget_used", config.budget ? boost::json::value(config.budget_used) : nullptr},
          {"is_active", config.is_active},
          {"created_at", core::format_timestamp(config.created_at)}};
}

boost::json::object milestone_json(const store::Milestone& milestone) {
  return {{"id", milestone.id},
          {"successful_referrals", milestone.successful_referrals},
          {"reward_value", milestone.reward_value},
          {"reward_unit", milestone.reward_unit},
          {"is_active", milestone.is_active},
          {"created_at", core::format_timestamp(milestone.created_at)}};
}

boost::json::object balance_json(const store::Balances& sums) {
  using ledger::reward_status::kCredited;
  using ledger::reward_status::kPending;
  boost::json::object out;
  for (const char* unit : {"POINTS", "CASH"}) {
    const auto found = sums.find(unit);
    const auto sum_of = [&](const char* status) -> long long {
      if (found == sums.end()) return 0;
      const auto it = found->second.find(status);
      return it == found->second.end() ? 0 : it->second;
    };
    out[unit] = {{"pending", sum_of(kPending)}, {"credited", sum_of(kCredited)}};
  }
  return out;
}

std::string event_json(const EventAnswer& answer) {
  core::JsonWriter out;
  out.begin_object()
      .field("event_id", answer.event_id)
      .field("type", answer.type)
      .field("external_id", answer.external_id)
      .field("user_id", answer.user_id)
      .key("amount");
  answer.amount ? out.value(*answer.amount) : out.null();
  out.key("currency");
  answer.currency ? out.value(*answer.currency) : out.null();
  out.key("referral_id");
  answer.referral_id ? out.value(*answer.referral_id) : out.null();
  out.key("rewards").begin_array();
  for (const auto& reward : answer.rewards) write_reward(out, reward);
  return out.end_array().end_object().take();
}

}  // namespace reward
