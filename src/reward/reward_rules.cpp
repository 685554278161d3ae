#include "reward/reward_rules.hpp"

#include <algorithm>

#include "core/api_error.hpp"
#include "ledger/reward_status.hpp"
#include "referral/referral_status.hpp"

namespace reward {

void require_one_of(const std::string& field, const std::string& value,
                    std::initializer_list<const char*> allowed) {
  std::string names;
  for (const char* name : allowed) {
    if (value == name) return;
    names += names.empty() ? name : std::string(", ") + name;
  }
  throw core::validation_error("'" + field + "' must be one of " + names + ".");
}

void require_range(const std::string& field, long long value, long long min, long long max) {
  if (value < min || value > max) {
    throw core::validation_error("'" + field + "' must be a whole number from " +
                                 std::to_string(min) + " to " + std::to_string(max) + ".");
  }
}

std::optional<long long> reward_value_for(const store::Config& config,
                                          std::optional<long long> amount) {
  if (!config.percent_of_amount) return config.reward_value;
  if (!amount) return std::nullopt;
  // amount <= kMaxRewardValue (10^12) and percent <= 100: no overflow.
  auto value = *amount * *config.percent_of_amount / 100;
  if (config.max_value) value = std::min(value, *config.max_value);
  if (value <= 0) return std::nullopt;
  return value;
}

std::string referral_status_from(const std::vector<store::Reward>& rewards,
                                 const std::string& current) {
  bool any = false;
  bool all_revoked = true;
  for (const auto& reward : rewards) {
    if (reward.reward_type == "MILESTONE") continue;
    if (reward.status == ledger::reward_status::kCredited)
      return referral::referral_status::kSuccess;
    any = true;
    all_revoked = all_revoked && reward.status == ledger::reward_status::kRevoked;
  }
  if (!any) return current;
  return all_revoked ? referral::referral_status::kRejected : referral::referral_status::kPending;
}

}  // namespace reward
