#pragma once
#include <string>
#include <vector>

#include "db/database.hpp"
#include "referral/referral_store.hpp"
#include "reward/milestone_store.hpp"
#include "reward/reward_store.hpp"

namespace reward {

struct MilestoneRequest {
  long long successful_referrals = 0;
  long long reward_value = 0;
  std::string reward_unit;
};

// Milestones an admin sets up (docs/API.md, Milestones).
class MilestoneService {
 public:
  explicit MilestoneService(db::Database& database) : database_(database) {}

  store::Milestone create(const MilestoneRequest& request, const std::string& admin_id);
  std::vector<store::Milestone> list();
  store::Milestone deactivate(const std::string& milestone_id);

 private:
  db::Database& database_;
};

struct MilestoneAward {
  store::Milestone milestone;
  store::Reward reward;
  std::string reason;  // for its ledger entry: "N successful referrals reached"
};

// Inside the transaction in which the referral became successful: one
// MILESTONE reward (PENDING, for its referrer) per active milestone the
// referrer has reached and never been rewarded for. The unique key
// (milestone, user) on rewards makes it once under any concurrency, also
// when a revoke and a new success cross the threshold again. Each publishes
// milestone.reached in the same transaction; the caller adds the rewards'
// ledger entries (they follow the entry of the move that reached them).
std::vector<MilestoneAward> award_milestones(soci::session& sql,
                                             const referral::store::Referral& referral,
                                             long long now);

}  // namespace reward
