#include "reward/reward_store.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include <string>

#include "mail_test_support.hpp"
#include "sqlite_work.hpp"

namespace {

using sqlite_work::kReferrals;
using sqlite_work::seed_referrer;
using sqlite_work::vm_hundreds;

// Every apply asks whether the referral has its reward already. SQLite
// answered that through the beneficiary's covering index and read all of
// the referrer's rewards, so apply slowed with each referral the referrer
// had (docs/PERFORMANCE.md, Apply's CPU, profiled).
TEST(RewardStore, HasRewardReadsOneEntryHoweverManyRewardsTheUserHas) {
  mail_test::TempDatabase database(false, {});
  database.get().write([](soci::session& sql) {
    seed_referrer(sql);
    const auto newest = "r" + std::to_string(kReferrals);
    bool found = false;
    const int present =
        vm_hundreds(sql, [&] { found = reward::store::has_reward(sql, newest, "boss", "SIGNUP"); });
    EXPECT_TRUE(found);
    bool missing = true;
    const int absent = vm_hundreds(
        sql, [&] { missing = reward::store::has_reward(sql, "r2", "boss", "FIRST_ORDER"); });
    EXPECT_FALSE(missing);
    // A lookup is a few dozen steps; reading 3,000 index entries is thousands.
    EXPECT_LE(present, 2);
    EXPECT_LE(absent, 2);
  });
}

}  // namespace
