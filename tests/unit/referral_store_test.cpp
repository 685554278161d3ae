#include "referral/referral_store.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include "mail_test_support.hpp"
#include "sqlite_work.hpp"

namespace {

// The burst rule asks on every apply whether the code was used `limit`
// times in the last hour. Counting every use read one index entry per use:
// a code used 3,000 times an hour (the case the rule exists for) read 3,000
// entries per apply (docs/PERFORMANCE.md, Apply's CPU, profiled).
TEST(ReferralStore, TheBurstCountStopsAtItsLimit) {
  mail_test::TempDatabase database(false, {});
  database.get().write([](soci::session& sql) {
    sqlite_work::seed_referrer(sql);  // 3,000 referrals of code "c", at 1..3000 ms
    std::optional<long long> recent;
    const int steps = sqlite_work::vm_hundreds(sql, [&] {
      recent = referral::store::take_code_use(sql, {"c", 0, {0, 10}});
    });
    EXPECT_EQ(recent, 10);
    EXPECT_LE(steps, 2);
    // The window still applies: only the uses since `since` count.
    EXPECT_EQ(referral::store::take_code_use(sql, {"c", 0, {2995, 10}}), 6);
  });
}

}  // namespace
