#include <gtest/gtest.h>
#include <soci/soci.h>

#include <map>
#include <memory>
#include <set>

#include "core/random.hpp"
#include "mail/outbox_store.hpp"
#include "mail_test_support.hpp"

namespace {

using mail::store::Claimed;

constexpr std::int64_t kNow = 1'800'000'000'000;
constexpr std::int64_t kLease = 60'000;

struct Row {
  std::string status;
  int attempts = 0;
  long long next_attempt_at = 0;
  long long claimed_until = 0;
  std::string last_error;
  long long sent_at = 0;
};

// Runs against SQLite, and against PostgreSQL too when REFERRALD_TEST_POSTGRES_URL is set.
class MailStore : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam() && !mail_test::postgres_available()) {
      GTEST_SKIP() << "set REFERRALD_TEST_POSTGRES_URL to run against PostgreSQL";
    }
    database_ = std::make_unique<mail_test::TempDatabase>(GetParam());
  }

  db::Database& db() { return database_->get(); }

  std::string insert(std::int64_t now = kNow) {
    const auto id = core::new_id();
    db().write([&](soci::session& sql) {
      mail::store::insert(sql, {id, "user@example.com", "sealed-" + id, now});
    });
    return id;
  }

  std::vector<Claimed> claim(std::int64_t now, int limit = 10) {
    return db().write(
        [&](soci::session& sql) { return mail::store::claim_due(sql, now, kLease, limit); });
  }

  template <class Change>
  bool change(Change&& change) {
    return db().write([&](soci::session& sql) { return change(sql); });
  }

  Row row(const std::string& id) {
    return db().read([&](soci::session& sql) {
      Row row;
      soci::indicator error_null = soci::i_ok, sent_null = soci::i_ok;
      sql << "SELECT status, attempts, next_attempt_at, claimed_until, last_error, sent_at"
             " FROM outbox WHERE id = :id",
          soci::use(id), soci::into(row.status), soci::into(row.attempts),
          soci::into(row.next_attempt_at), soci::into(row.claimed_until),
          soci::into(row.last_error, error_null), soci::into(row.sent_at, sent_null);
      EXPECT_TRUE(sql.got_data()) << id;
      return row;
    });
  }

  std::unique_ptr<mail_test::TempDatabase> database_;
};

}  // namespace

TEST_P(MailStore, ClaimsDueMessagesInBatches) {
  const auto a = insert(), b = insert(), c = insert();
  insert(kNow + 5000);  // not due yet
  const auto first = claim(kNow, 2);
  ASSERT_EQ(first.size(), 2U);
  EXPECT_EQ(first[0].recipient, "user@example.com");
  EXPECT_EQ(first[0].payload, "sealed-" + first[0].id);
  EXPECT_EQ(first[0].attempts, 0);
  EXPECT_EQ(first[0].lease_until, kNow + kLease);
  EXPECT_EQ(row(first[0].id).status, "sending");
  EXPECT_EQ(row(first[0].id).claimed_until, kNow + kLease);
  const auto second = claim(kNow, 2);
  ASSERT_EQ(second.size(), 1U);
  EXPECT_TRUE(claim(kNow).empty());
  std::set<std::string> ids{first[0].id, first[1].id, second[0].id};
  EXPECT_EQ(ids, (std::set<std::string>{a, b, c}));
  EXPECT_EQ(claim(kNow + 5000).size(), 1U);
}

TEST_P(MailStore, ClaimsOneAtATime) {
  EXPECT_TRUE(claim(kNow, 1).empty());
  const auto id = insert();
  const auto first = claim(kNow, 1);
  ASSERT_EQ(first.size(), 1U);
  EXPECT_EQ(first[0].id, id);
  EXPECT_TRUE(claim(kNow, 1).empty());
}

TEST_P(MailStore, MarksSentOnceOnly) {
  insert();
  const auto claimed = claim(kNow).at(0);
  EXPECT_TRUE(change([&](auto& sql) { return mail::store::mark_sent(sql, claimed, kNow + 10); }));
  const auto sent = row(claimed.id);
  EXPECT_EQ(sent.status, "sent");
  EXPECT_EQ(sent.sent_at, kNow + 10);
  EXPECT_EQ(sent.claimed_until, 0);
  EXPECT_FALSE(change([&](auto& sql) { return mail::store::mark_sent(sql, claimed, kNow + 20); }));
  EXPECT_TRUE(claim(kNow + kLease * 2).empty());
}

TEST_P(MailStore, SchedulesARetry) {
  insert();
  const auto claimed = claim(kNow).at(0);
  EXPECT_TRUE(change([&](auto& sql) {
    return mail::store::schedule_retry(sql, claimed, kNow + 2000, "smtp: connection refused");
  }));
  const auto queued = row(claimed.id);
  EXPECT_EQ(queued.status, "queued");
  EXPECT_EQ(queued.attempts, 1);
  EXPECT_EQ(queued.next_attempt_at, kNow + 2000);
  EXPECT_EQ(queued.last_error, "smtp: connection refused");
  EXPECT_TRUE(claim(kNow + 1999).empty());
  const auto again = claim(kNow + 2000);
  ASSERT_EQ(again.size(), 1U);
  EXPECT_EQ(again[0].attempts, 1);
}

TEST_P(MailStore, MarksFailed) {
  insert();
  const auto claimed = claim(kNow).at(0);
  EXPECT_TRUE(change([&](auto& sql) { return mail::store::mark_failed(sql, claimed, "gave up"); }));
  const auto failed = row(claimed.id);
  EXPECT_EQ(failed.status, "failed");
  EXPECT_EQ(failed.attempts, 1);
  EXPECT_EQ(failed.last_error, "gave up");
  EXPECT_TRUE(claim(kNow + kLease * 2).empty());
}

TEST_P(MailStore, ReclaimsAMessageWhoseLeaseExpired) {
  insert();
  const auto crashed = claim(kNow).at(0);
  EXPECT_TRUE(claim(kNow + kLease - 1).empty());  // still leased
  const auto reclaimed = claim(kNow + kLease + 1);
  ASSERT_EQ(reclaimed.size(), 1U);
  EXPECT_EQ(reclaimed[0].id, crashed.id);
  EXPECT_EQ(reclaimed[0].lease_until, kNow + 2 * kLease + 1);
  // The first claim is fenced off: only the new holder records the outcome.
  EXPECT_FALSE(change([&](auto& sql) { return mail::store::mark_sent(sql, crashed, kNow + 5); }));
  EXPECT_TRUE(
      change([&](auto& sql) { return mail::store::mark_sent(sql, reclaimed[0], kNow + 5); }));
}

TEST_P(MailStore, CountsByStatus) {
  for (int i = 0; i < 4; ++i) insert();
  const auto claimed = claim(kNow, 3);
  change([&](auto& sql) { return mail::store::mark_sent(sql, claimed[0], kNow); });
  change([&](auto& sql) { return mail::store::mark_failed(sql, claimed[1], "x"); });
  const auto counts =
      mail_test::count_by_status(db());
  EXPECT_EQ(counts, (std::map<std::string, long long>{
                        {"queued", 1}, {"sending", 1}, {"sent", 1}, {"failed", 1}}));
  // The depth counter follows: queued + sending, without counting rows.
  EXPECT_EQ(db().read([](soci::session& sql) { return mail::store::depth(sql); }), 2);
}

TEST_P(MailStore, PurgesOldSentMessagesInBatches) {
  for (int i = 0; i < 4; ++i) insert();
  const auto claimed = claim(kNow, 4);
  for (int i = 0; i < 3; ++i) {
    change([&](auto& sql) { return mail::store::mark_sent(sql, claimed[i], kNow + i * 1000); });
  }
  const auto purge = [&](std::int64_t cutoff, int limit) {
    return db().write(
        [&](soci::session& sql) { return mail::store::purge_sent(sql, cutoff, limit); });
  };
  EXPECT_EQ(purge(kNow + 1500, 1), 1);  // the limit holds
  EXPECT_EQ(purge(kNow + 1500, 10), 1);
  EXPECT_EQ(purge(kNow + 1500, 10), 0);
  const auto counts =
      mail_test::count_by_status(db());
  EXPECT_EQ(counts, (std::map<std::string, long long>{{"sending", 1}, {"sent", 1}}));
}

// Two servers claiming at the same moment: the second skips the rows the
// first has locked instead of waiting for them or taking them too.
TEST_P(MailStore, ConcurrentClaimsTakeDisjointRows) {
  if (!GetParam()) GTEST_SKIP() << "SQLite has one writer: claims cannot overlap";
  for (int i = 0; i < 4; ++i) insert();
  std::vector<Claimed> second;
  const auto first = db().write([&](soci::session& sql) {
    auto mine = mail::store::claim_due(sql, kNow, kLease, 2);
    second = claim(kNow);  // another session while this transaction is open
    return mine;
  });
  ASSERT_EQ(first.size(), 2U);
  ASSERT_EQ(second.size(), 2U);
  std::set<std::string> ids;
  for (const auto& message : first) ids.insert(message.id);
  for (const auto& message : second) ids.insert(message.id);
  EXPECT_EQ(ids.size(), 4U);
}

INSTANTIATE_TEST_SUITE_P(Engines, MailStore, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "postgresql" : "sqlite"; });
