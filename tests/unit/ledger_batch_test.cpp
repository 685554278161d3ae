#include <gtest/gtest.h>
#include <soci/soci.h>

#include <chrono>
#include <future>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/random.hpp"
#include "ledger/ledger_entry.hpp"
#include "ledger/ledger_service.hpp"
#include "ledger/ledger_store.hpp"
#include "mail_test_support.hpp"

// ledger::append keeps a transaction's entries and writes them just before
// its COMMIT (db::before_commit): the head's lock is held only from there.
namespace {

using soci::use;

constexpr long long kNow = 1'800'000'000'000;

class LedgerBatch : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam() && std::getenv("REFERRALD_TEST_POSTGRES_URL") == nullptr) {
      GTEST_SKIP() << "set REFERRALD_TEST_POSTGRES_URL to run against PostgreSQL";
    }
    // tests/api/test_ledger.py runs these with a fresh PostgreSQL database;
    // entries cannot be deleted, so each test reads from the head it found.
    database_ = std::make_unique<mail_test::TempDatabase>(GetParam(), std::vector<std::string>{});
    before_ = head().seq;
  }

  db::Database& db() { return database_->get(); }

  ledger::store::Head head() {
    return db().read([](soci::session& sql) { return ledger::store::read_head(sql); });
  }

  // A PENDING reward of 100 POINTS with the rows it hangs on; its id.
  std::string new_reward() {
    const auto n = core::new_id();
    const std::string referrer = "o" + n, referee = "e" + n, code = "c" + n, referral = "r" + n,
                      reward = "w" + n;
    db().write([&](soci::session& sql) {
      for (const auto& user : {referrer, referee}) {
        const auto email = user + "@x.test";
        sql << "INSERT INTO users (id, name, email, canonical_email, password_hash, is_verified, "
               "created_at) VALUES (:id, 'U', :email, :canonical, 'h', 1, 0)",
            use(user), use(email), use(email);
      }
      sql << "INSERT INTO referral_codes (id, user_id, code, created_at) VALUES (:id, :user, "
             ":code, 0)",
          use(code), use(referrer), use(code);
      sql << "INSERT INTO referrals (id, referee_id, referrer_id, code_id, status, created_at, "
             "updated_at) VALUES (:id, :referee, :referrer, :code, 'PENDING', 0, 0)",
          use(referral), use(referee), use(referrer), use(code);
      sql << "INSERT INTO rewards (id, referral_id, user_id, beneficiary, reward_type, "
             "reward_value, reward_unit, status, created_at) VALUES (:id, :referral, :user, "
             "'REFERRER', 'SIGNUP', 100, 'POINTS', 'PENDING', 0)",
          use(reward), use(referral), use(referrer);
    });
    rewards_.emplace(reward, referrer);
    return reward;
  }

  void append_entry(soci::session& sql, const char* kind, const std::string& reward_id,
                    long long amount = 100, const std::string& reason = "test") {
    ledger::append(sql, {{kind, reward_id, rewards_.at(reward_id), amount, "POINTS",
                          ledger::kSystemActor, reason, kNow}});
  }

  void append_created(soci::session& sql, const std::string& reward_id) {
    append_entry(sql, ledger::kCreated, reward_id);
  }

  // The reward ids of the entries after the head SetUp found, in order,
  // after checking that they are chained from it with nothing missing.
  std::vector<std::string> appended() {
    const auto entries = db().read(
        [&](soci::session& sql) { return ledger::store::entries_after(sql, before_, 100); });
    std::vector<std::string> rewards;
    auto expected_seq = before_ + 1;
    for (const auto& entry : entries) {
      EXPECT_EQ(entry.seq, expected_seq++);
      EXPECT_EQ(entry.hash, ledger::entry_hash(entry));
      rewards.push_back(entry.reward_id);
    }
    for (std::size_t n = 1; n < entries.size(); ++n)
      EXPECT_EQ(entries[n].prev_hash, entries[n - 1].hash);
    if (!entries.empty()) {
      EXPECT_EQ(head().seq, entries.back().seq);
      EXPECT_EQ(head().hash, entries.back().hash);
      EXPECT_EQ(head_prev_hash(), entries.back().prev_hash);
    }
    return rewards;
  }

  std::string head_prev_hash() {
    return db().read([](soci::session& sql) {
      std::string prev_hash;
      sql << "SELECT prev_hash FROM ledger_head", soci::into(prev_hash);
      return prev_hash;
    });
  }

  // POINTS rewards per status in reward_counters (0 when never counted).
  std::map<std::string, long long> counts() {
    std::map<std::string, long long> out{{"PENDING", 0}, {"CREDITED", 0}, {"REVOKED", 0}};
    db().read([&](soci::session& sql) {
      std::string status;
      long long rewards = 0;
      soci::statement sums =
          (sql.prepare << "SELECT status, CAST(SUM(rewards) AS BIGINT) FROM "
                          "reward_counters WHERE unit = 'POINTS' GROUP BY status",
           soci::into(status), soci::into(rewards));
      sums.execute();
      while (sums.fetch()) out[status] = rewards;
    });
    return out;
  }

  long long before_ = 0;

 private:
  std::unique_ptr<mail_test::TempDatabase> database_;
  std::map<std::string, std::string> rewards_;  // reward id -> beneficiary
};

using Ids = std::vector<std::string>;

TEST_P(LedgerBatch, EntriesAreWrittenWhenTheTransactionCommitsInTheOrderAppended) {
  const auto first = new_reward();
  const auto second = new_reward();
  long long head_inside = -1;
  db().write([&](soci::session& sql) {
    append_created(sql, first);
    append_created(sql, second);
    head_inside = ledger::store::read_head(sql).seq;
  });
  EXPECT_EQ(head_inside, before_);
  EXPECT_EQ(appended(), (Ids{first, second}));
}

TEST_P(LedgerBatch, ANestedWriteThatRollsBackTakesItsEntriesAlong) {
  const auto kept = new_reward();
  const auto dropped = new_reward();
  const auto later = new_reward();
  db().write([&](soci::session& sql) {
    append_created(sql, kept);
    try {
      db().write([&](soci::session& nested) {
        append_created(nested, dropped);
        throw std::runtime_error("refused");
      });
    } catch (const std::runtime_error&) {
      // The outer write goes on and commits.
    }
    append_created(sql, later);
  });
  EXPECT_EQ(appended(), (Ids{kept, later}));
}

TEST_P(LedgerBatch, AWriteThatFailsAppendsNothingAndLeavesNothingBehind) {
  const auto dropped = new_reward();
  const auto next = new_reward();
  EXPECT_THROW(db().write([&](soci::session& sql) {
    append_created(sql, dropped);
    throw std::runtime_error("refused");
  }),
               std::runtime_error);
  EXPECT_EQ(head().seq, before_);
  db().write([&](soci::session& sql) { append_created(sql, next); });
  EXPECT_EQ(appended(), (Ids{next}));
}

// Before, the head was locked at the append and held to the COMMIT: a second
// append waited for the whole rest of the first transaction.
TEST_P(LedgerBatch, AnOpenTransactionThatAppendedDoesNotHoldTheHead) {
  if (!GetParam()) GTEST_SKIP() << "SQLite runs one write at a time";
  const auto slow = new_reward();
  const auto quick = new_reward();
  std::promise<void> appended_slow, release_slow;
  auto slow_write = std::async(std::launch::async, [&] {
    db().write([&](soci::session& sql) {
      append_created(sql, slow);
      appended_slow.set_value();
      release_slow.get_future().wait_for(std::chrono::seconds(10));
    });
  });
  appended_slow.get_future().wait();
  auto quick_write = std::async(std::launch::async, [&] {
    db().write([&](soci::session& sql) { append_created(sql, quick); });
  });
  const auto status = quick_write.wait_for(std::chrono::seconds(3));
  release_slow.set_value();
  slow_write.get();
  quick_write.get();
  EXPECT_EQ(status, std::future_status::ready) << "the second append waited for the first commit";
  EXPECT_EQ(appended(), (Ids{quick, slow}));
}

// On PostgreSQL a batch of one entry is one statement in which PostgreSQL
// hashes the entry: appended() checks each hash against entry_hash.
TEST_P(LedgerBatch, AnEntryHashedInSqlHasTheCanonicalHash) {
  const auto reward = new_reward();
  const std::vector<std::string> reasons = {"", "Grüße — 返金 ✓ \"quoted\" \\ ;--",
                                            std::string(300, 'x')};
  for (const auto& reason : reasons) {
    db().write([&](soci::session& sql) {
      append_entry(sql, ledger::kCredited, reward, 9'007'199'254'740'993, reason);
    });
  }
  EXPECT_EQ(appended(), (Ids{reward, reward, reward}));
}

// The counters move in the same statement as the head's lock: by one reward
// per created entry, from PENDING to CREDITED per credit, not at all for a
// reward created and credited in one batch.
TEST_P(LedgerBatch, AppendsMoveTheRewardCounters) {
  const auto created = new_reward();
  const auto both = new_reward();
  const auto before = counts();
  db().write([&](soci::session& sql) { append_created(sql, created); });
  db().write([&](soci::session& sql) { append_entry(sql, ledger::kCredited, created); });
  db().write([&](soci::session& sql) {
    append_created(sql, both);
    append_entry(sql, ledger::kCredited, both);
  });
  const auto after = counts();
  EXPECT_EQ(after.at("PENDING") - before.at("PENDING"), 0);
  EXPECT_EQ(after.at("CREDITED") - before.at("CREDITED"), 2);
  EXPECT_EQ(appended(), (Ids{created, created, both, both}));
}

// Single-entry appends from several connections at once: each waits for the
// head, reads the one its wait ended on, and the chain has no gap or fork.
TEST_P(LedgerBatch, ConcurrentAppendsChainOneAfterAnother) {
  if (!GetParam()) GTEST_SKIP() << "SQLite runs one write at a time";
  constexpr int kWriters = 6;
  constexpr int kEach = 15;
  std::vector<std::string> rewards;
  for (int n = 0; n < kWriters; ++n) rewards.push_back(new_reward());
  const auto before = counts();
  std::vector<std::future<void>> writers;
  for (const auto& reward : rewards) {
    writers.push_back(std::async(std::launch::async, [&, reward] {
      for (int n = 0; n < kEach; ++n)
        db().write([&](soci::session& sql) { append_created(sql, reward); });
    }));
  }
  for (auto& writer : writers) writer.get();
  EXPECT_EQ(appended().size(), static_cast<std::size_t>(kWriters * kEach));
  EXPECT_EQ(counts().at("PENDING") - before.at("PENDING"), kWriters * kEach);
}

INSTANTIATE_TEST_SUITE_P(Engines, LedgerBatch, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "PostgreSQL" : "SQLite"; });

}  // namespace
