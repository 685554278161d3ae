#include "reward/reward_service.hpp"

#include <boost/json.hpp>
#include <stdexcept>

#include "auth/auth_store.hpp"
#include "auth/email_address.hpp"
#include "core/api_error.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/text.hpp"
#include "events/event_log.hpp"
#include "ledger/ledger_service.hpp"
#include "referral/referral_events.hpp"
#include "reward/reward_events.hpp"
#include "reward/reward_json.hpp"

namespace reward {

using core::ApiError;

namespace {

constexpr const char* kPending = "PENDING";
constexpr const char* kCredited = "CREDITED";
constexpr const char* kRevoked = "REVOKED";
// A bound far above any real reward (10^10 in cents is 100 million) that
// keeps a config's value, and sums of many of them, far from 2^63 (issue 12).
constexpr long long kMaxRewardValue = 1'000'000'000'000;
constexpr std::size_t kMaxReasonLength = 500;

void require_one_of(const std::string& field, const std::string& value,
                    std::initializer_list<const char*> allowed) {
  std::string names;
  for (const char* name : allowed) {
    if (value == name) return;
    names += names.empty() ? name : std::string(", ") + name;
  }
  throw core::validation_error("'" + field + "' must be one of " + names + ".");
}

referral::store::StatsDelta bucket(const std::string& status, long long amount) {
  referral::store::StatsDelta delta;
  if (status == "SUCCESS") delta.successful = amount;
  else if (status == "REJECTED") delta.rejected = amount;
  else delta.pending = amount;
  return delta;
}

std::string status_from(const std::vector<store::Reward>& rewards, const std::string& current) {
  if (rewards.empty()) return current;
  bool all_revoked = true;
  for (const auto& reward : rewards) {
    if (reward.status == kCredited) return "SUCCESS";
    all_revoked = all_revoked && reward.status == kRevoked;
  }
  return all_revoked ? "REJECTED" : "PENDING";
}

store::Reward new_reward(const referral::store::Referral& referral, const store::Config& config,
                         long long now) {
  store::Reward reward;
  reward.id = core::new_id();
  reward.referral_id = referral.id;
  reward.user_id = config.beneficiary == "REFEREE" ? referral.referee_id : referral.referrer_id;
  reward.beneficiary = config.beneficiary;
  reward.reward_type = config.reward_type;
  reward.reward_value = config.reward_value;
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

void settle_referral(soci::session& sql, const std::string& referral_id) {
  const auto referral = referral::store::find_referral(sql, referral_id);
  if (!referral) return;
  const auto status = status_from(store::rewards_of_referral(sql, referral_id), referral->status);
  if (status == referral->status) return;
  referral::store::set_referral_status(sql, referral_id, status);
  referral::publish_status_changed(sql, referral_id, core::now_ms());
  auto delta = bucket(status, 1);
  const auto removed = bucket(referral->status, -1);
  delta.successful += removed.successful;
  delta.pending += removed.pending;
  delta.rejected += removed.rejected;
  referral::store::add_to_stats(sql, referral->referrer_id, delta);
}

store::Config RewardService::create_config(const ConfigRequest& request, const std::string& admin_id) {
  require_one_of("reward_type", request.reward_type, {"SIGNUP", "FIRST_ORDER"});
  require_one_of("reward_unit", request.reward_unit, {"POINTS", "CASH"});
  require_one_of("beneficiary", request.beneficiary, {"REFERRER", "REFEREE"});
  if (request.reward_value > kMaxRewardValue) {
    throw core::validation_error("'reward_value' must be at most " +
                                 std::to_string(kMaxRewardValue) + ".");
  }
  store::Config config{core::new_id(), request.reward_type, request.reward_value, request.reward_unit,
                       request.beneficiary, request.auto_credit, true, 0};
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

void RewardService::require_signup_config(soci::session& sql) {
  if (store::active_configs(sql, "SIGNUP").empty()) {
    throw ApiError(409, "reward_config_missing", "No active SIGNUP reward config; ask an admin to create one.");
  }
}

std::vector<store::Reward> RewardService::grant(soci::session& sql, const referral::store::Referral& referral,
                                                const std::string& reward_type, const std::string& actor_id) {
  const auto now = core::now_ms();
  // settle_referral reads the referral's status to move its counters; without
  // the lock a concurrent credit could settle the same referral from the same
  // stale status and both would count it.
  referral::store::lock_referral(sql, referral.id, now);
  // All its rewards were revoked: a rejected referral earns nothing more
  // (before, a FIRST_ORDER event auto-credited a new reward and flipped it
  // back to SUCCESS). Read under the lock, so a concurrent revoke counts.
  const auto current = referral::store::find_referral(sql, referral.id);
  if (!current || current->status == "REJECTED") return {};
  const bool flagged = !referral.flags.empty();
  std::vector<store::Reward> granted;
  std::vector<ledger::NewEntry> entries;
  std::vector<std::pair<std::string_view, store::Reward>> published;
  for (const auto& config : store::active_configs(sql, reward_type)) {
    auto reward = new_reward(referral, config, now);
    if (!store::insert_reward(sql, reward, config.id)) continue;  // granted before
    entries.push_back(entry_for(reward, ledger::kCreated, actor_id, reward_type + " reward created", now));
    published.emplace_back(events::kRewardCreated, reward);
    if (config.auto_credit && !flagged) {
      store::move_status(sql, reward.id, kPending, kCredited, now);
      entries.push_back(entry_for(reward, ledger::kCredited, "", "auto credit", now));
      reward.status = kCredited;
      reward.credited_at = now;
      published.emplace_back(events::kRewardCredited, reward);
    }
    granted.push_back(std::move(reward));
  }
  settle_referral(sql, referral.id);
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
    referral::store::lock_referral(sql, seen->referral_id, now);
    auto reward = *store::find_reward(sql, reward_id);  // fresh, now that we hold the lock
    if (to == kCredited && reward.status != kPending) {
      throw ApiError(409, "reward_not_pending", "Only a PENDING reward can be credited.");
    }
    if (to == kRevoked && reward.status == kRevoked) {
      throw ApiError(409, "reward_already_revoked", "The reward is already revoked.");
    }
    store::move_status(sql, reward_id, reward.status, to, now);
    settle_referral(sql, reward.referral_id);
    ledger::append(sql, {entry_for(reward, kind_of_move_to(to), actor_id, reason, now)});
    auto moved = *store::find_reward(sql, reward_id);
    publish_reward_event(sql, to == kCredited ? events::kRewardCredited : events::kRewardRevoked, moved, now);
    return moved;
  });
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

boost::json::object RewardService::balance(const std::string& user_id) {
  const auto sums = database_.read([&](soci::session& sql) { return store::balance(sql, user_id); });
  boost::json::object out;
  for (const char* unit : {"POINTS", "CASH"}) {
    const auto found = sums.find(unit);
    const auto sum_of = [&](const char* status) -> long long {
      if (found == sums.end()) return 0;
      const auto it = found->second.find(status);
      return it == found->second.end() ? 0 : it->second;
    };
    out[unit] = {{"pending", sum_of(kPending)}, {"credited", sum_of(kCredited)}};
  }
  return out;
}

EventOutcome RewardService::record_event(const EventRequest& request, const std::string& actor_id) {
  require_one_of("type", request.type, {"FIRST_ORDER"});
  if (request.external_id.empty() || request.external_id.size() > 255) {
    throw core::validation_error("'external_id' must be 1 to 255 characters long.");
  }
  if (!request.user_id && !request.email) throw core::validation_error("'user_id' or 'email' is required.");
  return database_.write([&](soci::session& sql) -> EventOutcome {
    // Stored emails are normalised (docs/API.md, Input rules), so the admin's
    // spelling must be too.
    const auto user = request.user_id
                          ? auth::store::find_user_by_id(sql, *request.user_id)
                          : auth::store::find_user_by_email(sql, auth::normalize_email(*request.email).value_or(""));
    if (!user) throw ApiError(404, "user_not_found", "No such user.");
    const auto event_id = core::new_id();
    if (!store::claim_event(sql, event_id, request.type, request.external_id, user->id, core::now_ms())) {
      return {false, stored_event_result(sql, request.type, request.external_id)};
    }
    const auto referral = referral::store::find_referral_of_referee(sql, user->id);
    core::JsonWriter out;
    out.begin_object()
        .field("event_id", event_id)
        .field("type", request.type)
        .field("external_id", request.external_id)
        .field("user_id", user->id)
        .key("referral_id");
    referral ? out.value(referral->id) : out.null();
    out.key("rewards").begin_array();
    if (referral) {
      for (const auto& reward : grant(sql, *referral, request.type, actor_id)) write_reward(out, reward);
    }
    const auto result = out.end_array().end_object().take();
    store::store_event_result(sql, event_id, result);
    return {true, result};
  });
}

}  // namespace reward
