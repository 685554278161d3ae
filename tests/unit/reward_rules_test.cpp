#include "reward/reward_rules.hpp"

#include <gtest/gtest.h>

#include "core/api_error.hpp"
#include "referral/referral_flags.hpp"

namespace {

reward::store::Config percent(long long percent_of_amount,
                              std::optional<long long> max_value = std::nullopt) {
  reward::store::Config config;
  config.percent_of_amount = percent_of_amount;
  config.max_value = max_value;
  return config;
}

TEST(RewardValueFor, FixedConfigIgnoresTheAmount) {
  reward::store::Config fixed;
  fixed.reward_value = 250;
  EXPECT_EQ(reward::reward_value_for(fixed, std::nullopt), 250);
  EXPECT_EQ(reward::reward_value_for(fixed, 99), 250);
}

TEST(RewardValueFor, PercentRoundsDown) {
  EXPECT_EQ(reward::reward_value_for(percent(15), 999), 149);  // 149.85
  EXPECT_EQ(reward::reward_value_for(percent(33), 100), 33);
  EXPECT_EQ(reward::reward_value_for(percent(100), 12345), 12345);
}

TEST(RewardValueFor, PercentStopsAtMaxValue) {
  EXPECT_EQ(reward::reward_value_for(percent(15, 1000), 10000), 1000);
  EXPECT_EQ(reward::reward_value_for(percent(15, 1000), 6000), 900);
}

TEST(RewardValueFor, NoAmountOrZeroValueMakesNoReward) {
  EXPECT_EQ(reward::reward_value_for(percent(10), std::nullopt), std::nullopt);
  EXPECT_EQ(reward::reward_value_for(percent(10), 9), std::nullopt);  // 0.9 rounds to 0
  EXPECT_EQ(reward::reward_value_for(percent(10), 0), std::nullopt);
}

TEST(RewardValueFor, LargestAmountDoesNotOverflow) {
  EXPECT_EQ(reward::reward_value_for(percent(100), reward::kMaxRewardValue),
            reward::kMaxRewardValue);
}

TEST(RequireRange, NamesTheFieldAndBounds) {
  EXPECT_NO_THROW(reward::require_range("hold_days", 365, 0, 365));
  try {
    reward::require_range("hold_days", 366, 0, 365);
    FAIL() << "no error";
  } catch (const core::ApiError& error) {
    EXPECT_EQ(error.code(), "validation_error");
    EXPECT_NE(std::string(error.what()).find("'hold_days'"), std::string::npos);
  }
}

TEST(ReferralFlags, OnlyFraudRulesHoldForReview) {
  EXPECT_FALSE(referral::has_fraud_flag(""));
  EXPECT_FALSE(referral::has_fraud_flag(R"([{"rule":"cap_reached","detail":"x"}])"));
  EXPECT_FALSE(referral::has_fraud_flag(R"([{"rule":"budget_exhausted","detail":"x"}])"));
  EXPECT_TRUE(referral::has_fraud_flag(
      R"([{"rule":"cap_reached","detail":"x"},{"rule":"burst","detail":"y"}])"));
  EXPECT_TRUE(referral::has_fraud_flag(R"([{"rule":"same_ip","detail":"x"}])"));
}

TEST(ReferralFlags, ANewReferralCarriesWhatItsRulesFound) {
  EXPECT_EQ(referral::fraud_flags({}), "");
  const auto both = referral::fraud_flags({"203.0.113.7", 3});
  EXPECT_EQ(
      both,
      R"([{"rule":"same_ip","detail":"The referee's IP 203.0.113.7 matches a recent login of the )"
      R"(referrer."},{"rule":"burst","detail":"The code was used more than 3 times within an hour )"
      R"((limit 3)."}])");
  EXPECT_TRUE(referral::has_fraud_flag(both));
  EXPECT_TRUE(referral::has_fraud_flag(referral::fraud_flags({std::nullopt, 10})));
}

}  // namespace
