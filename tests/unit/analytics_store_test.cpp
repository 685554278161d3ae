#include "analytics/analytics_store.hpp"

#include <gtest/gtest.h>
#include <soci/soci.h>

#include "mail_test_support.hpp"
#include "sqlite_work.hpp"

namespace {

std::vector<std::string> ids_of(const std::vector<analytics::store::ReferralRow>& rows) {
  std::vector<std::string> ids;
  for (const auto& row : rows) ids.push_back(row.id);
  return ids;
}

std::vector<analytics::store::ReferralRow> page(db::Database& database,
                                                const std::optional<core::Cursor>& after,
                                                int limit) {
  return database.read([&](soci::session& sql) {
    return analytics::store::referrals_of(sql, "boss", after, limit);
  });
}

// A list page is one batch as large as its limit, read by a statement kept per
// pooled session: the batch must follow each call's limit, and the statement
// must end past its last row, or SQLite keeps that session's read snapshot
// and a later page would miss a referral committed meanwhile. (One thread:
// every read leases the pool's first session.)
TEST(AnalyticsStore, ListPagesFollowEachLimitAndSeeLaterCommits) {
  mail_test::TempDatabase database(false, {});
  database.get().write(
      [](soci::session& sql) { sqlite_work::seed_referrer(sql); });  // r1..r3000 at 1..3000 ms

  const auto first = page(database.get(), std::nullopt, 3);
  EXPECT_EQ(ids_of(first), (std::vector<std::string>{"r3000", "r2999", "r2998"}));
  EXPECT_EQ(first[0].referee_id, "u3000");
  EXPECT_EQ(first[0].created_at, 3000);
  EXPECT_EQ(first[0].status, "PENDING");
  EXPECT_EQ(ids_of(page(database.get(), core::Cursor{2998, "r2998"}, 1)),
            std::vector<std::string>{"r2997"});
  const auto long_page = page(database.get(), std::nullopt, 200);
  ASSERT_EQ(long_page.size(), 200U);
  EXPECT_EQ(long_page.back().id, "r2801");
  EXPECT_EQ(page(database.get(), core::Cursor{3, "r3"}, 50).size(),
            2U);                                                // fewer rows than the limit
  EXPECT_EQ(page(database.get(), std::nullopt, 5).size(), 5U);  // a full batch, the last page read

  database.get().write([](soci::session& sql) {
    sql << "INSERT INTO users (id, name, email, canonical_email, password_hash, is_verified, "
           "created_at) "
           "VALUES ('u3001', 'U', 'u3001@x.test', 'u3001@x.test', 'h', 1, 3001)";
    sql << "INSERT INTO referrals (id, referee_id, referrer_id, code_id, status, created_at, "
           "updated_at, "
           "referee_name) VALUES ('r3001', 'u3001', 'boss', 'c', 'SUCCESS', 3001, 3001, 'New "
           "\"one\"')";
  });
  // Another statement on the session that read the pages sees the commit.
  const auto referrals = database.get().read([](soci::session& sql) {
    long long count = 0;
    sql << "SELECT COUNT(*) FROM referrals WHERE referrer_id = 'boss'", soci::into(count);
    return count;
  });
  EXPECT_EQ(referrals, 3001);
  const auto after_commit = page(database.get(), std::nullopt, 2);
  EXPECT_EQ(ids_of(after_commit), (std::vector<std::string>{"r3001", "r3000"}));
  EXPECT_EQ(after_commit[0].referee_name, "New \"one\"");
  EXPECT_EQ(after_commit[0].status, "SUCCESS");
}

}  // namespace
