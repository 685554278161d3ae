#include "referral/referral_service.hpp"

#include <limits>

#include "core/api_error.hpp"
#include "core/clock.hpp"
#include "core/ip_network.hpp"
#include "core/random.hpp"
#include "referral/referral_code.hpp"
#include "referral/referral_events.hpp"
#include "referral/referral_flags.hpp"
#include "referral/referral_status.hpp"
#include "referral/referrer_stats.hpp"

namespace referral {

using core::ApiError;

namespace {

constexpr int kCodeAttempts = 5;
constexpr long long kSameIpLookbackMs = 30 * core::kMsPerDay;

ApiError invalid_code() { return ApiError(404, "invalid_code", "Unknown referral code."); }

}  // namespace

GenerateResult ReferralService::generate(const std::string& user_id) {
  const auto my_referrer = [&](soci::session& sql) -> std::optional<std::string> {
    const auto referral = store::find_referral_of_referee(sql, user_id);
    if (!referral) return std::nullopt;
    return referral->referrer_id;
  };
  auto existing = database_.read([&](soci::session& sql) -> std::optional<GenerateResult> {
    auto code = store::find_code_of_user(sql, user_id);
    if (!code) return std::nullopt;
    return GenerateResult{*code, false, my_referrer(sql)};
  });
  if (existing) return *existing;
  return database_.write([&](soci::session& sql) {
    for (int attempt = 0; attempt < kCodeAttempts; ++attempt) {
      store::Code code{core::new_id(), user_id, generate_code(config_.referral_code_prefix), 0, core::now_ms()};
      if (store::insert_code(sql, code)) return GenerateResult{code, true, my_referrer(sql)};
      // Either a concurrent call made this user's code first, or the random
      // code collided: the first is answered with that code, the second retried.
      if (auto mine = store::find_code_of_user(sql, user_id))
        return GenerateResult{*mine, false, my_referrer(sql)};
    }
    throw std::runtime_error("could not find a free referral code");
  });
}

void ReferralService::require_code(soci::session& sql, const std::string& raw_code) const {
  if (!store::find_code(sql, normalize_code(raw_code))) throw invalid_code();
}

ApplyResult ReferralService::apply(const std::string& referee_id, const std::string& raw_code,
                                   const std::string& ip) {
  const auto code = normalize_code(raw_code);
  if (code.empty()) throw core::validation_error("'referral_code' is required.");
  try {
    return database_.write([&](soci::session& sql) { return apply_in(sql, referee_id, code, ip); });
  } catch (const std::exception& error) {
    // Lost a race on referrals.referee_id: someone else's apply committed first.
    if (db::classify(error) != db::Failure::unique_violation) throw;
    throw ApiError(409, "already_referred", "You have already been referred.");
  }
}

ApplyResult ReferralService::apply_in(soci::session& sql, const std::string& referee_id,
                                      const std::string& code_text, const std::string& ip) {
  const auto now = core::now_ms();
  // With the same-IP rule off (or no address) the question asks nothing.
  const bool ask_same_ip = config_.referral_flag_same_ip && !ip.empty();
  const auto parties = store::apply_parties(
      sql, code_text, referee_id,
      {ip, core::client_network(ip),
       ask_same_ip ? now - kSameIpLookbackMs : std::numeric_limits<long long>::max()},
      config_.referral_block_cycles);
  if (!parties) throw invalid_code();
  const auto& code = parties->code;
  if (code.user_id == referee_id)
    throw ApiError(400, "self_referral", "You cannot use your own referral code.");
  const auto& referee = parties->referee;
  const auto& referrer = parties->referrer;
  // An unverified account holds no value (docs/API.md, Accounts): a signup
  // for its address replaces it, which must not take anyone's rewards along.
  if (!referee || !referrer || !referrer->is_verified) throw invalid_code();
  if (!referee->is_verified) throw ApiError(403, "email_not_verified", "Verify your email first.");
  if (config_.referral_block_aliases && referee->canonical_email == referrer->canonical_email) {
    throw ApiError(400, "self_referral", "You cannot use your own referral code.");
  }
  if (parties->referee_referred) {
    throw ApiError(409, "already_referred", "You have already been referred.");
  }
  // The burst rule's count comes with the use; with the rule off nothing is counted.
  const auto burst_since = config_.referral_max_uses_per_hour > 0
                               ? now - core::kMsPerHour
                               : std::numeric_limits<long long>::max();
  const store::CodeUse use{code.id,
                           config_.referral_max_uses_per_code,
                           {burst_since, config_.referral_max_uses_per_hour}};
  std::optional<store::ChainAndUse> walked;
  if (config_.referral_block_cycles)
    walked = refuse_cycle(sql, referee_id, referrer->id, parties->owner_chain, use);
  const auto window = config_.referral_apply_window_days;
  if (window > 0 && now - referee->created_at > window * core::kMsPerDay) {
    throw ApiError(409, "apply_window_closed",
                   "Referral codes can be applied only within " + std::to_string(window) + " days of signup.");
  }
  const auto signup_configs = rewards_.signup_configs(sql);
  const auto recent_uses = walked ? walked->recent_uses : store::take_code_use(sql, use);
  if (!recent_uses) {
    throw ApiError(409, "code_exhausted", "This referral code has been used the maximum number of times.");
  }
  store::Referral referral{core::new_id(),
                           referee_id,
                           referee->name,
                           referrer->id,
                           code.id,
                           referral_status::kPending,
                           flags_for(ip, parties->referrer_logged_in_from_ip, *recent_uses),
                           ip,
                           now};
  referral::insert_pending_referral(sql, referral);
  publish_created(sql, {referral, referrer->email, referee->email}, now);
  referral.status =
      rewards_.grant_signup(sql, referral, signup_configs, referee_id).referral_status;
  return {referral, code_text};
}

std::optional<store::ChainAndUse> ReferralService::refuse_cycle(
    soci::session& sql, const std::string& referee_id, const std::string& referrer_id,
    const std::optional<store::Chain>& first_walk, const store::CodeUse& use) const {
  // If the referee is the referrer or one of its referrers, this referral
  // would close a loop (A referred B, so B's code is refused for A). The
  // whole chain is walked: a depth cap let a 66-long chain close (issue 12).
  //
  // Concurrency (PostgreSQL, READ COMMITTED): two applies that together close
  // a loop each walk a graph without the other's referral (12 of 15
  // simultaneous A<->B pairs both committed). The referee is never referred
  // yet, so it can only be the top (root) of the referrer's chain; every
  // apply locks its referee and that root and walks again under the locks,
  // until the root it locked is still the root. A root gains a referrer only
  // through an apply holding its lock, so while we hold it our chain cannot
  // change, and applies that could close a loop with ours share a lock and
  // run one after the other. The new root's lock is needed when the root
  // moved: in a ring of four, the two applies that wait while the other two
  // commit share no lock until they lock their new roots (test_races.py,
  // "ring of four": without the relock both commit). Applies into unrelated
  // trees do not wait. The walk and the locks are one statement, on
  // PostgreSQL the one that read the code (`first_walk`); the walk under the
  // locks needs a statement of its own (READ COMMITTED: a later statement's
  // snapshot), so the rule costs no round trip of its own when no other apply
  // moved the root: the walk under the locks also takes the code's use, which
  // apply takes next otherwise.
  auto chain =
      first_walk ? *first_walk : store::referrer_chain_locking_root(sql, referrer_id, referee_id);
  while (chain.root_locked) {
    const auto locked_root = *chain.root;
    auto walked = store::referrer_chain_taking_use(sql, referrer_id, referee_id, locked_root, use);
    if (walked.use_asked) return walked;
    chain = walked.chain;
    if (chain.contains) break;
    chain = store::referrer_chain_locking_root(sql, referrer_id, referee_id);
  }
  if (chain.contains)
    throw ApiError(400, "referral_cycle", "This code belongs to someone you referred.");
  return std::nullopt;
}

std::string ReferralService::flags_for(const std::string& ip, bool referrer_logged_in_from_ip,
                                       long long recent_uses) const {
  FraudFindings found;
  if (referrer_logged_in_from_ip) found.same_ip = ip;
  const auto per_hour = config_.referral_max_uses_per_hour;
  if (per_hour > 0 && recent_uses >= per_hour) found.burst_limit = per_hour;
  return fraud_flags(found);
}

std::vector<store::FlaggedReferral> ReferralService::flagged(const std::optional<core::Cursor>& after, int limit) {
  return database_.read([&](soci::session& sql) { return store::flagged_referrals(sql, after, limit); });
}

}  // namespace referral
