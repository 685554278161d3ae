#pragma once
#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "referral/referral_store.hpp"
#include "reward/reward_store.hpp"

namespace reward {

struct ConfigRequest {
  std::string reward_type;
  long long reward_value = 0;
  std::string reward_unit;
  std::string beneficiary = "REFERRER";
  bool auto_credit = false;
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

struct EventOutcome {
  bool first_time = true;  // false: a repeat, answered with the stored result
  std::string result;      // JSON body
};

// Reward configs, the ledger's status machine and qualifying events. The
// referral's status and its referrer's counters follow every ledger move in
// the same transaction.
class RewardService {
 public:
  explicit RewardService(db::Database& database) : database_(database) {}

  store::Config create_config(const ConfigRequest& request, const std::string& admin_id);
  std::vector<store::Config> configs();
  store::Config deactivate_config(const std::string& config_id);

  // Inside the caller's transaction: the rewards of every active config of
  // `reward_type` for `referral`; auto-credited unless the referral is flagged.
  std::vector<store::Reward> grant(soci::session& sql, const referral::store::Referral& referral,
                                   const std::string& reward_type, const std::string& actor_id);
  // Fails with 409 reward_config_missing when no SIGNUP config is active.
  void require_signup_config(soci::session& sql);

  store::Reward credit(const std::string& reward_id, const std::string& actor_id);
  store::Reward revoke(const std::string& reward_id, const std::string& actor_id, const std::string& reason);
  std::vector<store::Event> history(const std::string& reward_id);
  std::vector<store::Reward> list(const store::RewardFilter& filter);
  boost::json::object balance(const std::string& user_id);
  EventOutcome record_event(const EventRequest& request, const std::string& actor_id);

 private:
  store::Reward move(const std::string& reward_id, const std::string& to, const std::string& actor_id,
                     const std::string& reason);

  db::Database& database_;
};

// Recomputes a referral's status from its rewards (SUCCESS once any is
// credited, REJECTED once all are revoked) and moves its referrer's counters.
void settle_referral(soci::session& sql, const std::string& referral_id);

}  // namespace reward
