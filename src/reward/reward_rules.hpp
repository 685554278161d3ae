#pragma once
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

#include "reward/reward_store.hpp"

// Checks and arithmetic shared by reward configs, events and milestones.
namespace reward {

// A bound far above any real reward (10^10 in cents is 100 million) that
// keeps a config's value, and sums of many of them, far from 2^63 (issue 12).
constexpr long long kMaxRewardValue = 1'000'000'000'000;

// 400 validation_error naming the field unless `value` is one of `allowed`.
void require_one_of(const std::string& field, const std::string& value,
                    std::initializer_list<const char*> allowed);
// 400 validation_error naming the field unless min <= value <= max.
void require_range(const std::string& field, long long value, long long min, long long max);

// What `config` gives for an event of `amount` (minor units): its fixed
// value, or percent_of_amount of the amount rounded down, at most max_value.
// Nothing when the config does not apply: a percent config and no amount
// (docs/API.md: an event without amount matches only fixed configs), or a
// percentage that rounds down to 0.
std::optional<long long> reward_value_for(const store::Config& config,
                                          std::optional<long long> amount);

// The status a referral's rewards give it (docs/API.md, Referral status):
// SUCCESS once one is credited, REJECTED when all are revoked, else PENDING;
// `current` when it has none. A MILESTONE reward hangs on the referral that
// reached the milestone but rewards the referrer's whole record, so it does
// not move that referral.
std::string referral_status_from(const std::vector<store::Reward>& rewards,
                                 const std::string& current);

}  // namespace reward
