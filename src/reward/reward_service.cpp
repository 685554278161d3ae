#include "reward/reward_service.hpp"

#include <algorithm>
#include <stdexcept>

#include "auth/auth_store.hpp"
#include "auth/email_address.hpp"
#include "core/api_error.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/text.hpp"
#include "events/event_log.hpp"
#include "ledger/ledger_service.hpp"
#include "ledger/reward_status.hpp"
#include "referral/referral_events.hpp"
#include "referral/referral_flags.hpp"
#include "referral/referral_status.hpp"
#include "referral/referrer_stats.hpp"
#include "reward/milestone_service.hpp"
#include "reward/reward_events.hpp"
#include "reward/reward_json.hpp"
#include "reward/reward_rules.hpp"

namespace reward {

using core::ApiError;

namespace {

using ledger::reward_status::kCredited;
using ledger::reward_status::kPending;
using ledger::reward_status::kRevoked;
namespace referral_status = referral::referral_status;
constexpr const char* kPurchase = "PURCHASE";
constexpr std::size_t kMaxReasonLength = 500;
constexpr long long kMaxHoldDays = 365;
constexpr long long kMaxRewardsPerReferrer = 1'000'000'000;

store::Reward new_reward(const referral::store::Referral& referral, const store::Config& config, long long value,
                         long long now) {
  store::Reward reward;
  reward.id = core::new_id();
  reward.referral_id = referral.id;
  reward.user_id = config.beneficiary == "REFEREE" ? referral.referee_id : referral.referrer_id;
  reward.beneficiary = config.beneficiary;
  reward.reward_type = config.reward_type;
  reward.reward_value = value;
  reward.reward_unit = config.reward_unit;
  reward.status = kPending;
  reward.created_at = now;
  return reward;
}

const char* status_after(const std::string& kind) {
  if (kind == ledger::kCreated) return kPending;
  return kind == ledger::kCredited ? kCredited : kRevoked;
}

const char* kind_of_move_to(const std::string& status) {
  return status == kCredited ? ledger::kCredited : ledger::kRevoked;
}

// The ledger entry of one move of `reward`; an empty actor is the system.
ledger::NewEntry entry_for(const store::Reward& reward, const char* kind, const std::string& actor_id,
                           const std::string& reason, long long now) {
  return {kind,         reward.id, reward.user_id, reward.reward_value, reward.reward_unit,
          actor_id.empty() ? ledger::kSystemActor : actor_id, reason, now};
}

// Settles the referral (`current`: as read under its lock; `rewards`: all of
// its rewards now) and adds what that makes to the transaction's ledger
// entries and events: the rewards of the milestones its referrer reached
// when the referral became SUCCESS (award_milestones). Returns its status.
std::string add_milestone_rewards(
    soci::session& sql, const referral::store::Referral& current,
    const std::vector<store::Reward>& rewards, long long now,
    std::vector<ledger::NewEntry>& entries,
    std::vector<std::pair<std::string_view, store::Reward>>& published) {
  const auto status = settle_referral(sql, current, rewards);
  if (status == current.status || status != referral_status::kSuccess) return status;
  for (auto& award : award_milestones(sql, current, now)) {
    entries.push_back(entry_for(award.reward, ledger::kCreated, "", award.reason, now));
    published.emplace_back(events::kRewardCreated, std::move(award.reward));
  }
  return status;
}

// Moves `reward` (as read under the lock of its referral, `current`) to
// `to`: the status, only from the status read (nothing when another move
// came first), the referral's status and counters, the ledger entries of the
// move and of the milestone rewards it made, and their events.
std::optional<store::Reward> move_reward(soci::session& sql, const store::Reward& reward,
                                         const referral::store::Referral& current,
                                         const std::string& to, const std::string& actor_id,
                                         const std::string& reason, long long now) {
  if (!store::move_status(sql, reward.id, reward.status, to, now)) return std::nullopt;
  std::vector<ledger::NewEntry> entries{entry_for(reward, kind_of_move_to(to), actor_id, reason, now)};
  auto moved = *store::find_reward(sql, reward.id);
  std::vector<std::pair<std::string_view, store::Reward>> published{
      {to == kCredited ? events::kRewardCredited : events::kRewardRevoked, moved}};
  add_milestone_rewards(sql, current, store::rewards_of_referral(sql, current.id), now, entries,
                        published);
  ledger::append(sql, entries);
  for (const auto& [type, changed] : published) publish_reward_event(sql, type, changed, now);
  return moved;
}

// A reward's history is its ledger entries, each the move from the status
// the one before it left.
std::vector<store::Event> events_of(const std::vector<ledger::Entry>& entries) {
  std::vector<store::Event> events;
  std::optional<std::string> from;
  for (const auto& entry : entries) {
    std::optional<std::string> actor_id;
    if (entry.actor != ledger::kSystemActor) actor_id = entry.actor;
    events.push_back({from, status_after(entry.kind), actor_id, entry.reason, entry.at});
    from = events.back().to;
  }
  return events;
}

// The claim lost to a row that must exist: PostgreSQL's ON CONFLICT waits
// for the other inserter and, under READ COMMITTED, the next statement sees
// its commit (REPEATABLE READ fails the claim with 40001, retried); SQLite
// runs one writer; nothing deletes events. Checked anyway, so a broken
// assumption is a logged error rather than undefined behaviour.
std::string stored_event_result(soci::session& sql, const std::string& type,
                                const std::string& external_id) {
  const auto stored = store::find_event(sql, type, external_id);
  if (!stored)
    throw std::logic_error("event (" + type + ", " + external_id + ") claimed but not found");
  return stored->result;
}

}  // namespace

std::string settle_referral(soci::session& sql, const referral::store::Referral& current,
                            const std::vector<store::Reward>& rewards) {
  const auto status = referral_status_from(rewards, current.status);
  if (status == current.status) return status;
  referral::store::set_referral_status(sql, current.id, status);
  referral::publish_status_changed(sql, current.id, core::now_ms());
  auto delta = referral::status_delta(status, 1);
  delta += referral::status_delta(current.status, -1);
  referral::add_to_stats(sql, current.referrer_id, delta);
  return status;
}

void settle_referral(soci::session& sql, const std::string& referral_id) {
  const auto referral = referral::store::find_referral(sql, referral_id);
  if (referral) settle_referral(sql, *referral, store::rewards_of_referral(sql, referral_id));
}

namespace {

// The value part of a config: a fixed reward_value, or percent_of_amount
// (of an event's amount, so not for SIGNUP) with an optional max_value.
void validate_value(const ConfigRequest& request) {
  if (request.percent_of_amount && request.reward_value > 0) {
    throw core::validation_error("Give either 'reward_value' or 'percent_of_amount', not both.");
  }
  if (!request.percent_of_amount) {
    if (request.reward_value <= 0) throw core::validation_error("'reward_value' or 'percent_of_amount' is required.");
    if (request.max_value) throw core::validation_error("'max_value' goes only with 'percent_of_amount'.");
    require_range("reward_value", request.reward_value, 1, kMaxRewardValue);
    return;
  }
  if (request.reward_type == "SIGNUP") {
    throw core::validation_error("'percent_of_amount' needs an event amount: FIRST_ORDER and PURCHASE configs only.");
  }
  require_range("percent_of_amount", *request.percent_of_amount, 1, 100);
  if (request.max_value) require_range("max_value", *request.max_value, 1, kMaxRewardValue);
}

void validate_config(const ConfigRequest& request) {
  require_one_of("reward_type", request.reward_type, {"SIGNUP", "FIRST_ORDER", kPurchase});
  require_one_of("reward_unit", request.reward_unit, {"POINTS", "CASH"});
  require_one_of("beneficiary", request.beneficiary, {"REFERRER", "REFEREE"});
  validate_value(request);
  require_range("hold_days", request.hold_days, 0, kMaxHoldDays);
  if (request.max_rewards_per_referrer) {
    require_range("max_rewards_per_referrer", *request.max_rewards_per_referrer, 1, kMaxRewardsPerReferrer);
  }
  if (request.budget) require_range("budget", *request.budget, 1, kMaxRewardValue);
}

}  // namespace

store::Config RewardService::create_config(const ConfigRequest& request, const std::string& admin_id) {
  validate_config(request);
  store::Config config{core::new_id(), request.reward_type, request.reward_value, request.reward_unit,
                       request.beneficiary, request.auto_credit, true, 0};
  config.percent_of_amount = request.percent_of_amount;
  config.max_value = request.max_value;
  config.hold_days = request.hold_days;
  config.max_rewards_per_referrer = request.max_rewards_per_referrer;
  config.budget = request.budget;
  database_.write([&](soci::session& sql) {
    store::lock_configs(sql);
    // Stamped under the lock, so the config that supersedes is the newer one.
    config.created_at = core::now_ms();
    store::deactivate_active_config(sql, config.reward_type, config.beneficiary, config.created_at);
    store::insert_config(sql, config, admin_id);
  });
  return config;
}

std::vector<store::Config> RewardService::configs() {
  return database_.read([](soci::session& sql) { return store::list_configs(sql); });
}

store::Config RewardService::deactivate_config(const std::string& config_id) {
  return database_.write([&](soci::session& sql) {
    store::deactivate_config(sql, config_id, core::now_ms());
    auto config = store::find_config(sql, config_id);
    if (!config) throw ApiError(404, "config_not_found", "No such reward config.");
    return *config;
  });
}

std::vector<store::Config> RewardService::signup_configs(soci::session& sql) {
  auto configs = store::active_configs(sql, "SIGNUP");
  if (configs.empty()) {
    throw ApiError(409, "reward_config_missing", "No active SIGNUP reward config; ask an admin to create one.");
  }
  return configs;
}

bool RewardService::within_limits(soci::session& sql, const store::Config& config, const store::Reward& reward) {
  const auto& cap = config.max_rewards_per_referrer;
  if (cap && !store::take_config_place(sql, config.id, reward.user_id, *cap)) {
    referral::add_flag(sql, reward.referral_id, "cap_reached",
                       "The " + reward.beneficiary + " has " + std::to_string(*cap) + " " + config.reward_type +
                           " rewards of config " + config.id + " already (max_rewards_per_referrer).",
                       reward.created_at);
    return false;
  }
  if (config.budget && !store::reserve_budget(sql, config.id, reward.reward_value)) {
    // No reward after all, and the transaction goes on to commit: give back
    // the cap place taken above.
    if (cap) store::return_config_place(sql, config.id, reward.user_id);
    referral::add_flag(sql, reward.referral_id, "budget_exhausted",
                       "A " + config.reward_type + " reward of " + std::to_string(reward.reward_value) + " " +
                           reward.reward_unit + " did not fit in what is left of the budget of config " + config.id +
                           ".",
                       reward.created_at);
    return false;
  }
  return true;
}

Granted RewardService::grant(soci::session& sql, const referral::store::Referral& referral,
                             const std::string& reward_type, const std::string& actor_id,
                             const Conversion& conversion) {
  const auto now = core::now_ms();
  // settle_referral reads the referral's status to move its counters; without
  // the lock a concurrent credit could settle the same referral from the same
  // stale status and both would count it. The row comes back read under it.
  const auto current = referral::store::lock_referral(sql, referral.id, now);
  // All its rewards were revoked: a rejected referral earns nothing more
  // (before, a FIRST_ORDER event auto-credited a new reward and flipped it
  // back to SUCCESS). Read under the lock, so a concurrent revoke counts.
  if (!current || current->status == referral_status::kRejected)
    return {{}, current ? current->status : referral.status};
  return grant_to(sql, {*current, false}, store::active_configs(sql, reward_type), reward_type,
                  actor_id, conversion, now);
}

Granted RewardService::grant_signup(soci::session& sql, const referral::store::Referral& inserted,
                                    const std::vector<store::Config>& configs,
                                    const std::string& actor_id) {
  return grant_to(sql, {inserted, true}, configs, "SIGNUP", actor_id, {}, core::now_ms());
}

Granted RewardService::grant_to(soci::session& sql, const GrantTarget& target,
                                const std::vector<store::Config>& configs,
                                const std::string& reward_type, const std::string& actor_id,
                                const Conversion& conversion, long long now) {
  const auto& referral = target.referral;
  // Only the fraud rules hold rewards for review; cap_reached and
  // budget_exhausted inform (docs/API.md, Reward rules).
  const bool held_for_review = referral::has_fraud_flag(referral.flags);
  const bool per_event = reward_type == kPurchase;
  // A referral this transaction inserted has no rewards yet, and one active
  // config per (type, beneficiary) gives each a different one.
  const bool check_existing = !per_event && !target.inserted;
  Granted granted;
  std::vector<ledger::NewEntry> entries;
  std::vector<std::pair<std::string_view, store::Reward>> published;
  for (const auto& config : configs) {
    const auto value = reward_value_for(config, conversion.amount);
    if (!value) continue;
    auto reward = new_reward(referral, config, *value, now);
    // Under the referral's lock, so no concurrent grant can add it meanwhile.
    if (check_existing && store::has_reward(sql, referral.id, reward.user_id, reward_type))
      continue;
    if (!within_limits(sql, config, reward)) continue;
    store::RewardOrigin origin{config.id, per_event ? conversion.event_id : std::nullopt, std::nullopt, std::nullopt};
    if (config.hold_days > 0) {
      reward.available_at = now + config.hold_days * options_.hold_day_ms;
      if (config.auto_credit && !held_for_review) origin.auto_credit_at = reward.available_at;
    }
    if (!store::insert_reward(sql, reward, origin)) {
      throw std::logic_error("reward " + reward_type + " for referral " + referral.id + " exists despite the lock");
    }
    entries.push_back(entry_for(reward, ledger::kCreated, actor_id, reward_type + " reward created", now));
    published.emplace_back(events::kRewardCreated, reward);
    if (config.auto_credit && !held_for_review && !reward.available_at) {
      store::move_status(sql, reward.id, kPending, kCredited, now);
      entries.push_back(entry_for(reward, ledger::kCredited, "", "auto credit", now));
      reward.status = kCredited;
      reward.credited_at = now;
      published.emplace_back(events::kRewardCredited, reward);
    }
    granted.rewards.push_back(std::move(reward));
  }
  // An inserted referral's rewards are the ones just made.
  granted.referral_status = add_milestone_rewards(
      sql, referral,
      target.inserted ? granted.rewards : store::rewards_of_referral(sql, referral.id), now,
      entries, published);
  ledger::append(sql, entries);
  for (const auto& [type, reward] : published) publish_reward_event(sql, type, reward, now);
  return granted;
}

store::Reward RewardService::move(const std::string& reward_id, const std::string& to,
                                  const std::string& actor_id, const std::string& reason) {
  return database_.write([&](soci::session& sql) {
    const auto seen = store::find_reward(sql, reward_id);
    if (!seen) throw ApiError(404, "reward_not_found", "No such reward.");
    const auto now = core::now_ms();
    const auto referral = referral::store::lock_referral(sql, seen->referral_id, now);
    if (!referral) throw std::logic_error("reward " + reward_id + " has no referral");
    auto reward = *store::find_reward(sql, reward_id);  // fresh, now that we hold the lock
    if (to == kCredited && reward.status != kPending) {
      throw ApiError(409, "reward_not_pending", "Only a PENDING reward can be credited.");
    }
    if (to == kRevoked && reward.status == kRevoked) {
      throw ApiError(409, "reward_already_revoked", "The reward is already revoked.");
    }
    if (to == kCredited && reward.available_at && now < *reward.available_at) {
      throw ApiError(409, "reward_on_hold",
                     "The reward is on hold until " + core::format_timestamp(*reward.available_at) + ".");
    }
    if (to == kRevoked) store::release_budget(sql, reward_id);
    return *move_reward(sql, reward, *referral, to, actor_id, reason, now);
  });
}

int RewardService::credit_due(long long now, int limit) {
  const auto due = database_.read([&](soci::session& sql) { return store::due_rewards(sql, now, limit); });
  int credited = 0;
  for (const auto& reward_id : due) {
    // One transaction per reward, so a failure leaves the others credited.
    // The status move is conditional on PENDING under the referral's lock:
    // a reward revoked meanwhile, or credited by another instance's timer,
    // is left alone, so each is credited once.
    credited += database_.write([&](soci::session& sql) {
      const auto seen = store::find_reward(sql, reward_id);
      if (!seen) return 0;
      const auto referral = referral::store::lock_referral(sql, seen->referral_id, now);
      const auto fresh = *store::find_reward(sql, reward_id);
      const auto at = store::auto_credit_at(sql, reward_id);
      if (!referral || fresh.status != kPending || !at || *at > now) return 0;
      return move_reward(sql, fresh, *referral, kCredited, "", "hold ended: auto credit", now) ? 1
                                                                                               : 0;
    });
  }
  return credited;
}

store::Reward RewardService::credit(const std::string& reward_id, const std::string& actor_id) {
  return move(reward_id, kCredited, actor_id, "credited by admin");
}

store::Reward RewardService::revoke(const std::string& reward_id, const std::string& actor_id,
                                    const std::string& reason) {
  const auto length = auth::utf8_length(reason);
  if (core::trim_view(reason).empty() || length > kMaxReasonLength) {
    throw core::validation_error("'reason' must be 1 to " + std::to_string(kMaxReasonLength) +
                                 " characters long and not blank.");
  }
  return move(reward_id, kRevoked, actor_id, reason);
}

std::vector<store::Event> RewardService::history(const std::string& reward_id) {
  return database_.read([&](soci::session& sql) {
    if (!store::find_reward(sql, reward_id)) throw ApiError(404, "reward_not_found", "No such reward.");
    return events_of(ledger::store::entries_of_reward(sql, reward_id));
  });
}

std::vector<store::Reward> RewardService::list(const store::RewardFilter& filter) {
  if (filter.status) require_one_of("status", *filter.status, {kPending, kCredited, kRevoked});
  return database_.read([&](soci::session& sql) { return store::list_rewards(sql, filter); });
}

store::Balances RewardService::balance(const std::string& user_id) {
  return database_.read([&](soci::session& sql) { return store::balance(sql, user_id); });
}

EventOutcome RewardService::record_event(const EventRequest& request, const std::string& actor_id) {
  require_one_of("type", request.type, {"FIRST_ORDER", kPurchase});
  if (request.external_id.empty() || request.external_id.size() > 255) {
    throw core::validation_error("'external_id' must be 1 to 255 characters long.");
  }
  // The routes check the shapes (docs/API.md, Events); the bound keeps
  // amount x percent far from 2^63.
  if (request.amount) require_range("amount", *request.amount, 0, kMaxRewardValue);
  if (request.currency && !request.amount) throw core::validation_error("'currency' goes only with 'amount'.");
  if (!request.user_id && !request.email) throw core::validation_error("'user_id' or 'email' is required.");
  return database_.write([&](soci::session& sql) -> EventOutcome {
    // Stored emails are normalised (docs/API.md, Input rules), so the admin's
    // spelling must be too.
    const auto user = request.user_id
                          ? auth::store::find_user_by_id(sql, *request.user_id)
                          : auth::store::find_user_by_email(sql, auth::normalize_email(*request.email).value_or(""));
    if (!user) throw ApiError(404, "user_not_found", "No such user.");
    const auto event_id = core::new_id();
    if (!store::claim_event(sql, {event_id, request.type, request.external_id, user->id, request.amount,
                                  request.currency, core::now_ms()})) {
      return {false, stored_event_result(sql, request.type, request.external_id)};
    }
    EventAnswer answer{.event_id = event_id,
                       .type = request.type,
                       .external_id = request.external_id,
                       .user_id = user->id,
                       .amount = request.amount,
                       .currency = request.currency};
    if (const auto referral = referral::store::find_referral_of_referee(sql, user->id)) {
      answer.referral_id = referral->id;
      answer.rewards =
          grant(sql, *referral, request.type, actor_id, {event_id, request.amount}).rewards;
    }
    const auto result = event_json(answer);
    store::store_event_result(sql, event_id, result);
    return {true, result};
  });
}

}  // namespace reward
