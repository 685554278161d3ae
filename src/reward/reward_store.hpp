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
  // Reward rules (docs/API.md, Reward rules); unset when the config has none.
  std::optional<long long> percent_of_amount = std::nullopt;  // instead of reward_value (then 0)
  std::optional<long long> max_value = std::nullopt;
  long long hold_days = 0;
  std::optional<long long> max_rewards_per_referrer = std::nullopt;
  std::optional<long long> budget = std::nullopt;
  long long budget_used = 0;
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

// Counts one more reward of `config_id` for `user_id` unless `cap` are
// counted already; false then. One conditional upsert, so concurrent grants
// for one beneficiary cannot both take the last place.
bool take_config_place(soci::session& sql, const std::string& config_id, const std::string& user_id,
                       long long cap);
// Gives back a place taken in this transaction for a reward not made after all.
void return_config_place(soci::session& sql, const std::string& config_id, const std::string& user_id);
// Adds `value` to the config's budget_used unless that would pass its
// budget; false then (nothing is reserved: never a partial reward).
bool reserve_budget(soci::session& sql, const std::string& config_id, long long value);
// A revoked reward gives its value back to its config's budget, if it has one.
void release_budget(soci::session& sql, const std::string& reward_id);

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
  std::optional<long long> available_at = std::nullopt;  // creditable from then on; none without a hold
};

// Where a reward came from; written once with it.
struct RewardOrigin {
  std::optional<std::string> config_id;
  std::optional<std::string> event_id;      // PURCHASE: one reward per (event, beneficiary)
  std::optional<std::string> milestone_id;  // MILESTONE: one reward per (milestone, user)
  std::optional<long long> auto_credit_at;  // the hold timer credits it then
};

// False when the reward exists already (by the unique keys of the origin).
bool insert_reward(soci::session& sql, const Reward& reward, const RewardOrigin& origin);
// True when the referral has its (user, type) reward (SIGNUP, FIRST_ORDER).
bool has_reward(soci::session& sql, const std::string& referral_id, const std::string& user_id,
                const std::string& reward_type);
std::optional<Reward> find_reward(soci::session& sql, const std::string& reward_id);
std::vector<Reward> rewards_of_referral(soci::session& sql, const std::string& referral_id);
// Moves the status only from `from`; false when the reward was not in it.
bool move_status(soci::session& sql, const std::string& reward_id, const std::string& from,
                 const std::string& to, long long now);

// Pending rewards whose automatic credit is due at `now`, oldest first.
std::vector<std::string> due_rewards(soci::session& sql, long long now, int limit);
// The time the hold timer credits the reward, if it does.
std::optional<long long> auto_credit_at(soci::session& sql, const std::string& reward_id);

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
using Balances = std::map<std::string, std::map<std::string, long long>>;
Balances balance(soci::session& sql, const std::string& user_id);

struct StoredEvent {
  std::string id;
  std::string result;  // JSON
};
struct NewEvent {
  std::string id;
  std::string type;
  std::string external_id;
  std::string user_id;
  std::optional<long long> amount;
  std::optional<std::string> currency;
  long long created_at = 0;
};
// Claims (type, external_id); false when it was claimed before.
bool claim_event(soci::session& sql, const NewEvent& event);
std::optional<StoredEvent> find_event(soci::session& sql, const std::string& type,
                                      const std::string& external_id);
void store_event_result(soci::session& sql, const std::string& id, const std::string& result);

}  // namespace reward::store
