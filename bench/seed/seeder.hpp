#pragma once
#include <soci/session.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "clicks.hpp"
#include "db/database.hpp"

namespace seed {

struct Options {
  long long users = 100'000;          // referrers: verified users with a code
  long long referrals = 1'000'000;    // each one brings its own referee user
  long long bench_referrals = 1'000;  // all of the bench user's, over the last bench_days
  int bench_days = 90;
  int history_days = 365;             // everyone else's referrals spread over this
  std::uint64_t random_seed = 42;
  std::string password = "seed-password";
  ClickOptions clicks;
};

struct Counts {
  long long users = 0;
  long long codes = 0;
  long long referrals = 0;
  long long rewards = 0;
  long long stats = 0;
  long long attributions = 0;
  ClickCounts clicks;
};

// Fills an empty, migrated database with a consistent data set: users,
// codes (uses = referrals), referrals, their SIGNUP rewards (status matching
// the referral's) and referrer_stats equal to the counts; every referee's
// signup attributed to its referrer's code, and the share-link clicks of
// ClickSeeder. Rows go in
// parent-first batches in large transactions.
class Seeder {
 public:
  Seeder(soci::session& sql, db::Engine engine, Options options);
  Counts run();

 private:
  struct Plan;  // who referred whom, with which outcome, decided up front
  struct ReferralTables;

  void tune_session();
  void plan_referrals(Plan& plan);
  void write_referrers(const Plan& plan, Counts& counts);
  void write_configs();
  void write_referrals(const Plan& plan, Counts& counts);
  void add_referral(ReferralTables& tables, std::size_t i, std::uint32_t who, std::uint8_t outcome);
  void write_stats(const Plan& plan, Counts& counts);
  void count_rows(const Plan& plan, const Counts& counts);
  void count_rewards(const Plan& plan);
  void commit_and_begin();

  soci::session& sql_;
  db::Engine engine_;
  Options options_;
  std::mt19937_64 random_;
  long long now_ms_;
  std::string password_hash_;
  std::vector<std::string> user_ids_;
  std::vector<std::string> code_ids_;
  std::string points_config_id_;
  std::string cash_config_id_;
};

// The users every benchmark logs in as.
inline constexpr const char* kBenchEmail = "bench@seed.test";
inline constexpr const char* kAdminEmail = "admin@seed.test";

}  // namespace seed
