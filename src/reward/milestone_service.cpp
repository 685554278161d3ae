#include "reward/milestone_service.hpp"

#include "core/api_error.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "ledger/reward_status.hpp"
#include "referral/referral_store.hpp"
#include "reward/milestone_events.hpp"
#include "reward/reward_rules.hpp"

namespace reward {

namespace {

constexpr long long kMaxThreshold = 1'000'000'000;

}  // namespace

store::Milestone MilestoneService::create(const MilestoneRequest& request,
                                          const std::string& admin_id) {
  require_range("successful_referrals", request.successful_referrals, 1, kMaxThreshold);
  require_range("reward_value", request.reward_value, 1, kMaxRewardValue);
  require_one_of("reward_unit", request.reward_unit, {"POINTS", "CASH"});
  store::Milestone milestone{
      core::new_id(), request.successful_referrals, request.reward_value, request.reward_unit, true,
      core::now_ms()};
  database_.write([&](soci::session& sql) { store::insert_milestone(sql, milestone, admin_id); });
  return milestone;
}

std::vector<store::Milestone> MilestoneService::list() {
  return database_.read([](soci::session& sql) { return store::list_milestones(sql); });
}

store::Milestone MilestoneService::deactivate(const std::string& milestone_id) {
  return database_.write([&](soci::session& sql) {
    store::deactivate_milestone(sql, milestone_id, core::now_ms());
    auto milestone = store::find_milestone(sql, milestone_id);
    if (!milestone) throw core::ApiError(404, "milestone_not_found", "No such milestone.");
    return *milestone;
  });
}

std::vector<MilestoneAward> award_milestones(soci::session& sql,
                                             const referral::store::Referral& referral,
                                             long long now) {
  const auto& referral_id = referral.id;
  const auto& referrer_id = referral.referrer_id;
  // The caller moved referrer_stats in this transaction; on PostgreSQL that
  // UPDATE holds the row lock, so this read sees every committed success.
  const auto successful = referral::store::successful_referrals(sql, referrer_id);
  std::vector<MilestoneAward> awarded;
  for (const auto& milestone : store::reached_milestones(sql, successful)) {
    store::Reward reward{core::new_id(),
                         referral_id,
                         referrer_id,
                         "REFERRER",
                         "MILESTONE",
                         milestone.reward_value,
                         milestone.reward_unit,
                         ledger::reward_status::kPending,
                         now,
                         std::nullopt,
                         std::nullopt};
    if (!store::insert_reward(sql, reward,
                              {std::nullopt, std::nullopt, milestone.id, std::nullopt}))
      continue;
    publish_milestone_reached(sql, milestone, reward);
    awarded.push_back(
        {milestone, std::move(reward),
         std::to_string(milestone.successful_referrals) + " successful referrals reached"});
  }
  return awarded;
}

}  // namespace reward
