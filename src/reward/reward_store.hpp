#pragma once
#include <soci/session.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/cursor.hpp"

// SQL for reward configs and rewards (their history is the ledger's, src/ledger/).
namespace reward::store {

struct Config {
  std::string id;
  std::string reward_type;
  long long reward_value = 0;
  std::string reward_unit;
  std::string beneficiary;
  bool auto_credit = false;
  bool is_active = true;
  long long created_at = 0;
};

// Serialises config changes until the transaction ends; plain reads go on.
void lock_configs(soci::session& sql);
void deactivate_active_config(soci::session& sql, const std::string& reward_type,
                              const std::string& beneficiary, long long now);
void insert_config(soci::session& sql, const Config& config, const std::string& created_by);
std::vector<Config> list_configs(soci::session& sql);
std::optional<Config> find_config(soci::session& sql, const std::string& id);
void deactivate_config(soci::session& sql, const std::string& id, long long now);
std::vector<Config> active_configs(soci::session& sql, const std::string& reward_type);

struct Reward {
  std::string id;
  std::string referral_id;
  std::string user_id;
  std::string beneficiary;
  std::string reward_type;
  long long reward_value = 0;
  std::string reward_unit;
  std::string status;
  long long created_at = 0;
  std::optional<long long> credited_at;
  std::optional<long long> revoked_at;
};

// False when the (referral, user, type) reward exists already.
bool insert_reward(soci::session& sql, const Reward& reward, const std::string& config_id);
std::optional<Reward> find_reward(soci::session& sql, const std::string& reward_id);
std::vector<Reward> rewards_of_referral(soci::session& sql, const std::string& referral_id);
// Moves the status only from `from`; false when the reward was not in it.
bool move_status(soci::session& sql, const std::string& reward_id, const std::string& from,
                 const std::string& to, long long now);

// One move of a reward's history, as GET .../history shows it.
struct Event {
  std::optional<std::string> from;
  std::string to;
  std::optional<std::string> actor_id;
  std::string reason;
  long long at = 0;
};

struct RewardFilter {
  std::optional<std::string> user_id;
  std::optional<std::string> status;
  std::optional<core::Cursor> after;
  int limit = 50;
};
std::vector<Reward> list_rewards(soci::session& sql, const RewardFilter& filter);

// unit -> status -> sum of values, for one user (saturated, see db::split_sum).
std::map<std::string, std::map<std::string, long long>> balance(soci::session& sql,
                                                                const std::string& user_id);

struct StoredEvent {
  std::string id;
  std::string result;  // JSON
};
// Claims (type, external_id); nullopt when it was claimed before.
bool claim_event(soci::session& sql, const std::string& id, const std::string& type,
                 const std::string& external_id, const std::string& user_id, long long now);
std::optional<StoredEvent> find_event(soci::session& sql, const std::string& type,
                                      const std::string& external_id);
void store_event_result(soci::session& sql, const std::string& id, const std::string& result);

}  // namespace reward::store
