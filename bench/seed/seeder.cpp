#include "seeder.hpp"

#include <soci/soci.h>

#include <map>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "auth/auth_store.hpp"
#include "auth/password.hpp"
#include "bulk_insert.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "indexes.hpp"
#include "ledger/ledger_store.hpp"
#include "referral/referral_store.hpp"

namespace seed {

namespace {

enum Outcome : std::uint8_t { kPending, kSuccess, kRejected };

constexpr long long kReferralsPerBatch = 1'000;
constexpr long long kReferralsPerTransaction = 100'000;
constexpr long long kPointsValue = 100;
constexpr long long kCashValue = 500;  // cents
constexpr long long kCashEvery = 5;    // every 5th referral also rewards its referee in CASH
const std::vector<std::string> kLoadedTables = {"users",         "referral_codes",    "referrals",
                                                "rewards",       "referrer_stats",    "link_attributions",
                                                "link_counters", "link_counters_all", "link_totals",
                                                "link_clicks"};
constexpr std::string_view kCodeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";  // as referral_code.cpp

const char* referral_status(std::uint8_t outcome) {
  return outcome == kSuccess ? "SUCCESS" : outcome == kRejected ? "REJECTED" : "PENDING";
}

const char* reward_status(std::uint8_t outcome) {
  return outcome == kSuccess ? "CREDITED" : outcome == kRejected ? "REVOKED" : "PENDING";
}

// Deterministic and unique per referrer: SEED-<index in base 31>.
std::string code_for(long long index) {
  std::string digits(8, kCodeAlphabet[0]);
  for (int i = 7; i >= 0 && index > 0; --i, index /= static_cast<long long>(kCodeAlphabet.size())) {
    digits[static_cast<std::size_t>(i)] = kCodeAlphabet[static_cast<std::size_t>(index % kCodeAlphabet.size())];
  }
  return "SEED-" + digits;
}

constexpr const char* kUserColumns =
    "id, name, email, canonical_email, password_hash, is_verified, is_admin, created_at, verified_at";

struct RewardRow {
  const std::string& referral_id;
  std::uint8_t outcome;
  long long created_at;
  long long settled_at;  // credited_at or revoked_at
};

void add_reward(BulkInsert& rewards, const RewardRow& row, const std::string& user_id, const char* beneficiary,
                long long value, const char* unit, const std::string& config_id) {
  auto& out = rewards.row().text(core::new_id()).text(row.referral_id).text(user_id).text(beneficiary)
                  .text("SIGNUP").number(value).text(unit).text(reward_status(row.outcome)).text(config_id)
                  .number(row.created_at);
  if (row.outcome == kSuccess) out.number(row.settled_at).null();
  else if (row.outcome == kRejected) out.null().number(row.settled_at);
  else out.null().null();
}

std::string referrer_email(long long index) {
  if (index == 0) return kBenchEmail;
  return "user" + std::to_string(index) + "@seed.test";
}

}  // namespace

struct Seeder::Plan {
  std::vector<std::uint32_t> referrer;  // per referral
  std::vector<std::uint8_t> outcome;    // per referral
  std::vector<long long> total, successful, pending, rejected;  // per referrer
};

Seeder::Seeder(soci::session& sql, db::Engine engine, Options options)
    : sql_(sql), engine_(engine), options_(std::move(options)), random_(options_.random_seed), now_ms_(core::now_ms()) {
  if (options_.users < 2) throw std::invalid_argument("--users must be at least 2");
  if (options_.bench_referrals > options_.referrals) throw std::invalid_argument("--bench-referrals exceeds --referrals");
  // One real Argon2id hash shared by every referrer, so benchmarks can log
  // in as anyone without a million hash computations here.
  password_hash_ = auth::hash_password(options_.password, auth::HashParams{});
}

Counts Seeder::run() {
  Plan plan;
  plan_referrals(plan);
  Counts counts;
  tune_session();
  sql_ << "BEGIN";
  const auto indexes = drop_secondary_indexes(sql_, engine_, kLoadedTables);
  write_referrers(plan, counts);
  write_configs();
  commit_and_begin();
  write_referrals(plan, counts);
  write_stats(plan, counts);
  commit_and_begin();
  auto click_options = options_.clicks;
  click_options.bench_days = options_.bench_days;
  click_options.history_days = options_.history_days;
  counts.clicks = ClickSeeder(sql_, engine_, click_options, now_ms_, random_).run(code_ids_, plan.total);
  create_indexes(sql_, indexes);
  sql_ << "COMMIT";
  if (engine_ == db::Engine::sqlite) sql_ << "PRAGMA journal_mode = WAL";  // what the server uses
  return counts;
}

// Neither durability nor foreign-key checks are wanted while seeding: the
// rows are consistent by construction, and a crash means seeding again.
void Seeder::tune_session() {
  if (engine_ == db::Engine::postgresql) {
    sql_ << "SET synchronous_commit = off";
    sql_ << "SET maintenance_work_mem = '512MB'";  // index builds sort in memory
    try {
      sql_ << "SET session_replication_role = replica";  // skips FK triggers; superusers only
    } catch (const std::exception&) {
      // Not a superuser: the foreign keys are checked, which is only slower.
    }
    return;
  }
  sql_ << "PRAGMA synchronous = OFF";
  sql_ << "PRAGMA journal_mode = OFF";  // no WAL copy of every page; set back to WAL at the end
  sql_ << "PRAGMA foreign_keys = OFF";
  sql_ << "PRAGMA cache_size = -1048576";  // 1 GiB: the unique indexes stay in memory
}

void Seeder::commit_and_begin() {
  sql_ << "COMMIT";
  sql_ << "BEGIN";
}

// The bench user (index 0) gets exactly bench_referrals; the rest go to the
// other referrers with a skew (u² favours low indices), so the leaderboard
// has a long tail like real programmes.
void Seeder::plan_referrals(Plan& plan) {
  const auto users = static_cast<std::size_t>(options_.users);
  plan.total.assign(users, 0);
  plan.successful.assign(users, 0);
  plan.pending.assign(users, 0);
  plan.rejected.assign(users, 0);
  plan.referrer.resize(static_cast<std::size_t>(options_.referrals));
  plan.outcome.resize(plan.referrer.size());
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::uniform_int_distribution<int> percent(0, 99);
  for (std::size_t i = 0; i < plan.referrer.size(); ++i) {
    const double u = unit(random_);
    const auto skewed = 1 + static_cast<std::size_t>(static_cast<double>(users - 1) * u * u);
    const auto who = static_cast<long long>(i) < options_.bench_referrals ? 0 : std::min(skewed, users - 1);
    const int roll = percent(random_);
    const std::uint8_t outcome = roll < 55 ? kSuccess : roll < 90 ? kPending : kRejected;
    plan.referrer[i] = static_cast<std::uint32_t>(who);
    plan.outcome[i] = outcome;
    ++plan.total[who];
    ++(outcome == kSuccess ? plan.successful : outcome == kPending ? plan.pending : plan.rejected)[who];
  }
}

void Seeder::write_referrers(const Plan& plan, Counts& counts) {
  BulkInsert users(sql_, engine_, "users", kUserColumns);
  BulkInsert codes(sql_, engine_, "referral_codes", "id, user_id, code, uses, created_at");
  const long long joined = now_ms_ - (options_.history_days + 30) * core::kMsPerDay;
  users.row().text(core::new_id()).text("Seed Admin").text(kAdminEmail).text(kAdminEmail).text(password_hash_)
      .number(1).number(1).number(joined).number(joined);
  for (long long i = 0; i < options_.users; ++i) {
    user_ids_.push_back(core::new_id());
    code_ids_.push_back(core::new_id());
    const auto email = referrer_email(i);
    users.row().text(user_ids_.back()).text(i == 0 ? "Bench Referrer" : "Seed User " + std::to_string(i))
        .text(email).text(email).text(password_hash_).number(1).number(0).number(joined).number(joined);
    codes.row().text(code_ids_.back()).text(user_ids_.back()).text(code_for(i))
        .number(plan.total[static_cast<std::size_t>(i)]).number(joined);
    if (users.pending() >= kReferralsPerBatch) {
      users.flush();
      codes.flush();
    }
  }
  users.flush();
  codes.flush();
  counts.users += users.written();
  counts.codes += codes.written();
}

void Seeder::write_configs() {
  BulkInsert configs(sql_, engine_, "reward_configs",
                     "id, reward_type, reward_value, reward_unit, beneficiary, auto_credit, is_active, created_at");
  points_config_id_ = core::new_id();
  cash_config_id_ = core::new_id();
  const long long created = now_ms_ - (options_.history_days + 30) * core::kMsPerDay;
  configs.row().text(points_config_id_).text("SIGNUP").number(kPointsValue).text("POINTS").text("REFERRER")
      .number(0).number(1).number(created);
  configs.row().text(cash_config_id_).text("SIGNUP").number(kCashValue).text("CASH").text("REFEREE")
      .number(0).number(1).number(created);
  configs.flush();
}

// The three tables a referral touches, flushed parents first: foreign keys
// are checked per statement when they are checked at all.
struct Seeder::ReferralTables {
  explicit ReferralTables(soci::session& sql, db::Engine engine)
      : users(sql, engine, "users", kUserColumns),
        referrals(sql, engine, "referrals",
                  "id, referee_id, referee_name, referrer_id, code_id, status, is_flagged, ip, created_at, updated_at"),
        rewards(sql, engine, "rewards",
                "id, referral_id, user_id, beneficiary, reward_type, reward_value, reward_unit, status, "
                "config_id, created_at, credited_at, revoked_at"),
        attributions(sql, engine, "link_attributions", "user_id, code_id, click_id, source, created_at") {}
  void flush() {
    users.flush();
    referrals.flush();
    rewards.flush();
    attributions.flush();
  }
  BulkInsert users, referrals, rewards, attributions;
};

void Seeder::write_referrals(const Plan& plan, Counts& counts) {
  ReferralTables tables(sql_, engine_);
  for (std::size_t i = 0; i < plan.referrer.size(); ++i) {
    add_referral(tables, i, plan.referrer[i], plan.outcome[i]);
    const auto done = static_cast<long long>(i + 1);
    if (done % kReferralsPerBatch == 0 || done == options_.referrals) tables.flush();
    if (done % kReferralsPerTransaction == 0) commit_and_begin();
  }
  counts.users += tables.users.written();
  counts.referrals += tables.referrals.written();
  counts.rewards += tables.rewards.written();
  counts.attributions += tables.attributions.written();
}

// Referral i, its referee (signed up shortly before) and its SIGNUP rewards,
// whose status matches the referral's (SUCCESS: credited, REJECTED: revoked).
void Seeder::add_referral(ReferralTables& tables, std::size_t i, std::uint32_t who, std::uint8_t outcome) {
  const auto days = who == 0 ? options_.bench_days : options_.history_days;
  const long long created = now_ms_ - std::uniform_int_distribution<long long>(0, days * core::kMsPerDay - 1)(random_);
  const long long joined = created - std::uniform_int_distribution<long long>(0, 3 * core::kMsPerDay)(random_);
  const long long settled = outcome == kPending ? created : created + (now_ms_ - created) / 2;
  const auto referee_id = core::new_id();
  const auto referral_id = core::new_id();
  const auto email = "referee" + std::to_string(i) + "@seed.test";
  const auto name = "Referee " + std::to_string(i);
  tables.users.row().text(referee_id).text(name).text(email).text(email)
      .text("!seed-no-login").number(1).number(0).number(joined).number(joined);
  tables.referrals.row().text(referral_id).text(referee_id).text(name).text(user_ids_[who]).text(code_ids_[who])
      .text(referral_status(outcome)).number(0).text("").number(created).number(settled);
  tables.attributions.row().text(referee_id).text(code_ids_[who]).null().text("code").number(joined);
  const RewardRow reward{referral_id, outcome, created, settled};
  add_reward(tables.rewards, reward, user_ids_[who], "REFERRER", kPointsValue, "POINTS", points_config_id_);
  if (i % kCashEvery == 0) add_reward(tables.rewards, reward, referee_id, "REFEREE", kCashValue, "CASH", cash_config_id_);
}

void Seeder::write_stats(const Plan& plan, Counts& counts) {
  BulkInsert stats(sql_, engine_, "referrer_stats", "user_id, total, successful, pending, rejected");
  for (std::size_t i = 0; i < plan.total.size(); ++i) {
    if (plan.total[i] == 0) continue;  // the server makes the row on the first referral
    stats.row().text(user_ids_[i]).number(plan.total[i]).number(plan.successful[i]).number(plan.pending[i])
        .number(plan.rejected[i]);
    if (stats.pending() >= kReferralsPerBatch) stats.flush();
  }
  stats.flush();
  counts.stats = stats.written();
  count_rows(plan, counts);
}

// The counters the server keeps with its rows (admin stats read them): every
// seeded user is verified, and the plan knows each referral's status.
void Seeder::count_rows(const Plan& plan, const Counts& counts) {
  const auto sum = [](const std::vector<long long>& values) {
    long long total = 0;
    for (const auto value : values) total += value;
    return total;
  };
  auth::store::count_users(sql_, "seed", counts.users, counts.users);
  referral::store::count_referrals(sql_, "seed", {0, sum(plan.successful), sum(plan.pending), sum(plan.rejected)});
  count_rewards(plan);
}

// The rewards add_referral writes: a POINTS one per referral, a CASH one
// every kCashEvery, in the status of the referral's outcome.
void Seeder::count_rewards(const Plan& plan) {
  // (unit, status) -> what the seeded rewards add
  std::map<std::pair<std::string, std::string>, ledger::store::RewardCount> counts;
  for (std::size_t i = 0; i < plan.outcome.size(); ++i) {
    const auto* status = reward_status(plan.outcome[i]);
    counts[{"POINTS", status}].add(1, kPointsValue);
    if (i % kCashEvery == 0) counts[{"CASH", status}].add(1, kCashValue);
  }
  for (const auto& [key, count] : counts) {
    ledger::store::add_to_reward_counts(sql_, key.first, key.second, "seed", count);
  }
}

}  // namespace seed
