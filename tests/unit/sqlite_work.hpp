#pragma once
#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <string>

// Work counted in SQLite's virtual machine steps, for tests that a hot
// statement reads a few index entries, not a range that grows with the data:
// deterministic, unlike timing.
namespace sqlite_work {

constexpr int kReferrals = 3000;
// SQLite calls the progress handler once per this many virtual machine steps.
constexpr int kStepsPerCall = 100;

// A referrer with kReferrals referrals (ids r1..rN, referees u1..uN), each
// with its SIGNUP reward for the referrer.
inline void seed_referrer(soci::session& sql) {
  const std::string numbers =
      "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " +
      std::to_string(kReferrals) + ") ";
  sql << "INSERT INTO users (id, name, email, canonical_email, password_hash, is_verified, "
         "created_at) "
         "VALUES ('boss', 'Boss', 'boss@x.test', 'boss@x.test', 'h', 1, 0)";
  sql << numbers +
             "INSERT INTO users (id, name, email, canonical_email, password_hash, is_verified, "
             "created_at) "
             "SELECT 'u' || i, 'U', 'u' || i || '@x.test', 'u' || i || '@x.test', 'h', 1, i FROM n";
  sql << "INSERT INTO referral_codes (id, user_id, code, created_at) VALUES ('c', 'boss', 'BOSS', "
         "0)";
  sql << numbers +
             "INSERT INTO referrals (id, referee_id, referrer_id, code_id, status, created_at, "
             "updated_at) "
             "SELECT 'r' || i, 'u' || i, 'boss', 'c', 'PENDING', i, i FROM n";
  sql << numbers +
             "INSERT INTO rewards (id, referral_id, user_id, beneficiary, reward_type, "
             "reward_value, reward_unit, "
             "status, created_at) SELECT 'w' || i, 'r' || i, 'boss', 'REFERRER', 'SIGNUP', 100, "
             "'POINTS', "
             "'PENDING', i FROM n";
}

inline int count_calls(void* calls) {
  ++*static_cast<int*>(calls);
  return 0;  // go on
}

// How many hundreds of SQLite VM steps `work` takes on `sql`.
template <class Work>
int vm_hundreds(soci::session& sql, Work&& work) {
  auto* connection = static_cast<soci::sqlite3_session_backend*>(sql.get_backend())->conn_;
  int calls = 0;
  sqlite_api::sqlite3_progress_handler(connection, kStepsPerCall, count_calls, &calls);
  work();
  sqlite_api::sqlite3_progress_handler(connection, 0, nullptr, nullptr);
  return calls;
}

}  // namespace sqlite_work
