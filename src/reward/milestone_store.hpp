#pragma once
#include <soci/session.h>

#include <optional>
#include <string>
#include <vector>

// SQL for milestones: a bonus when a referrer's successful referrals reach a
// threshold (the MILESTONE rewards themselves live in `rewards`).
namespace reward::store {

struct Milestone {
  std::string id;
  long long successful_referrals = 0;
  long long reward_value = 0;
  std::string reward_unit;
  bool is_active = true;
  long long created_at = 0;
};

void insert_milestone(soci::session& sql, const Milestone& milestone,
                      const std::string& created_by);
std::vector<Milestone> list_milestones(soci::session& sql);
std::optional<Milestone> find_milestone(soci::session& sql, const std::string& id);
void deactivate_milestone(soci::session& sql, const std::string& id, long long now);
// Active milestones whose threshold is at most `successful`.
std::vector<Milestone> reached_milestones(soci::session& sql, long long successful);

}  // namespace reward::store
