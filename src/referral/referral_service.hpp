#pragma once
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/config.hpp"
#include "db/database.hpp"
#include "referral/referral_store.hpp"
#include "reward/reward_service.hpp"

namespace referral {

struct GenerateResult {
  store::Code code;
  bool created = false;
  std::optional<std::string> my_referrer_id;  // who referred the caller, if anyone
};

struct ApplyResult {
  store::Referral referral;
  std::string code;  // as applied: the owner's code or one of its aliases
};

// Codes and applying them, with the fraud rules of docs/API.md.
class ReferralService {
 public:
  ReferralService(const core::Config& config, db::Database& database, reward::RewardService& rewards)
      : config_(config), database_(database), rewards_(rewards) {}

  GenerateResult generate(const std::string& user_id);
  ApplyResult apply(const std::string& referee_id, const std::string& raw_code, const std::string& ip);
  // For signup with a code: 404 invalid_code unless it exists.
  void require_code(soci::session& sql, const std::string& raw_code) const;
  std::vector<store::FlaggedReferral> flagged(const std::optional<core::Cursor>& after, int limit);

 private:
  ApplyResult apply_in(soci::session& sql, const std::string& referee_id, const std::string& code,
                       const std::string& ip);
  // `first_walk`: referrer_chain_locking_root's answer when apply_parties
  // walked the chain already. Answers the walk that also took `use`
  // (PostgreSQL, when it walked under its locks); otherwise the caller takes it.
  std::optional<store::ChainAndUse> refuse_cycle(soci::session& sql, const std::string& referee_id,
                                                 const std::string& referrer_id,
                                                 const std::optional<store::Chain>& first_walk,
                                                 const store::CodeUse& use) const;
  // `referrer_logged_in_from_ip`: the same-IP rule's answer (false when the rule is off);
  // `recent_uses`: the code's uses within the last hour before this one, counted up to the burst
  // limit.
  std::string flags_for(const std::string& ip, bool referrer_logged_in_from_ip,
                        long long recent_uses) const;

  const core::Config& config_;
  db::Database& database_;
  reward::RewardService& rewards_;
};

}  // namespace referral
