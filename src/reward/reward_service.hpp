#pragma once
#include <optional>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "referral/referral_store.hpp"
#include "reward/reward_store.hpp"

namespace reward {

struct ConfigRequest {
  std::string reward_type;
  long long reward_value = 0;  // 0: none given (then percent_of_amount is)
  std::string reward_unit;
  std::string beneficiary = "REFERRER";
  bool auto_credit = false;
  // Reward rules (docs/API.md, Reward rules), all optional.
  std::optional<long long> percent_of_amount;
  std::optional<long long> max_value;
  long long hold_days = 0;
  std::optional<long long> max_rewards_per_referrer;
  std::optional<long long> budget;
};

struct EventRequest {
  std::string type;
  std::optional<std::string> user_id;
  std::optional<std::string> email;
  std::string external_id;
  // The conversion's details (docs/API.md, API keys): checked for shape by
  // the routes; optional on every event.
  std::optional<long long> amount;       // minor units, >= 0
  std::optional<std::string> currency;   // ISO 4217 code
  std::optional<long long> occurred_at;  // epoch ms
};

// The conversion a grant answers: PURCHASE rewards are one per
// (event, beneficiary); percent configs need the amount.
struct Conversion {
  std::optional<std::string> event_id;
  std::optional<long long> amount;
};

struct RewardOptions {
  // The length of one hold day (REWARD_HOLD_DAY): a day, shorter only in tests.
  long long hold_day_ms = 24LL * 3600 * 1000;
};

// What a grant made: the rewards, and the referral's status after it.
struct Granted {
  std::vector<store::Reward> rewards;
  std::string referral_status;
};

struct EventOutcome {
  bool first_time = true;  // false: a repeat, answered with the stored result
  std::string result;      // the JSON body reward::event_json made the first time
};

// Reward configs, the ledger's status machine and qualifying events. The
// referral's status and its referrer's counters follow every ledger move in
// the same transaction.
class RewardService {
 public:
  explicit RewardService(db::Database& database, RewardOptions options = {})
      : database_(database), options_(options) {}

  store::Config create_config(const ConfigRequest& request, const std::string& admin_id);
  std::vector<store::Config> configs();
  store::Config deactivate_config(const std::string& config_id);

  // Inside the caller's transaction: the rewards of every active config of
  // `reward_type` for `referral`; auto-credited unless the referral is flagged.
  Granted grant(soci::session& sql, const referral::store::Referral& referral,
                const std::string& reward_type, const std::string& actor_id,
                const Conversion& conversion = {});
  // The SIGNUP rewards of `configs` (signup_configs) for a referral this
  // transaction inserted (as inserted): no other transaction can see it yet,
  // so it is neither locked nor read again.
  Granted grant_signup(soci::session& sql, const referral::store::Referral& inserted,
                       const std::vector<store::Config>& configs, const std::string& actor_id);
  // The active SIGNUP configs; fails with 409 reward_config_missing when there is none.
  std::vector<store::Config> signup_configs(soci::session& sql);

  store::Reward credit(const std::string& reward_id, const std::string& actor_id);
  store::Reward revoke(const std::string& reward_id, const std::string& actor_id, const std::string& reason);
  std::vector<store::Event> history(const std::string& reward_id);
  std::vector<store::Reward> list(const store::RewardFilter& filter);
  store::Balances balance(const std::string& user_id);
  EventOutcome record_event(const EventRequest& request, const std::string& actor_id);
  // The hold timer: credits (actor `system`) up to `limit` pending rewards
  // whose automatic credit is due at `now`; returns how many it credited.
  int credit_due(long long now, int limit);

 private:
  store::Reward move(const std::string& reward_id, const std::string& to, const std::string& actor_id,
                     const std::string& reason);
  // The referral a grant rewards: as read under its lock, or as this
  // transaction inserted it.
  struct GrantTarget {
    const referral::store::Referral& referral;
    bool inserted = false;
  };
  Granted grant_to(soci::session& sql, const GrantTarget& target,
                   const std::vector<store::Config>& configs, const std::string& reward_type,
                   const std::string& actor_id, const Conversion& conversion, long long now);
  // Whether `reward` fits the config's cap and budget; takes its place and
  // its value when it does, flags the referral when it does not.
  bool within_limits(soci::session& sql, const store::Config& config, const store::Reward& reward);

  db::Database& database_;
  RewardOptions options_;
};

// Recomputes a referral's status from its rewards (SUCCESS once any is
// credited, REJECTED once all are revoked; MILESTONE rewards aside) and moves
// its referrer's counters. `current` is the referral as read under its lock
// (or inserted by this transaction), `rewards` all of its rewards; returns
// its status now.
std::string settle_referral(soci::session& sql, const referral::store::Referral& current,
                            const std::vector<store::Reward>& rewards);
// The same for a referral read here (the importer's).
void settle_referral(soci::session& sql, const std::string& referral_id);

}  // namespace reward
