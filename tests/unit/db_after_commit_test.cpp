#include <gtest/gtest.h>
#include <soci/soci.h>

#include <memory>
#include <stdexcept>

#include "db/database.hpp"
#include "mail_test_support.hpp"

namespace {

int first_runs = 0;
int second_runs = 0;
void count_first() noexcept {
  ++first_runs;
}
void count_second() noexcept {
  ++second_runs;
}

// db::after_commit on both engines: SQLite's writes run on the group
// committer's thread, PostgreSQL's on the caller's.
class AfterCommit : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (GetParam() && std::getenv("REFERRALD_TEST_POSTGRES_URL") == nullptr) {
      GTEST_SKIP() << "set REFERRALD_TEST_POSTGRES_URL to run against PostgreSQL";
    }
    database_ = std::make_unique<mail_test::TempDatabase>(GetParam(), std::vector<std::string>{});
    first_runs = second_runs = 0;
  }

  db::Database& db() { return database_->get(); }

 private:
  std::unique_ptr<mail_test::TempDatabase> database_;
};

TEST_P(AfterCommit, RunsOnceAfterTheCommitBeforeWriteReturns) {
  int seen_inside = -1;
  db().write([&](soci::session&) {
    db::after_commit(count_first);
    db::after_commit(count_first);
    seen_inside = first_runs;
  });
  EXPECT_EQ(seen_inside, 0);
  EXPECT_EQ(first_runs, 1);
}

TEST_P(AfterCommit, IsDroppedWhenTheTransactionRollsBack) {
  EXPECT_THROW(db().write([](soci::session&) {
    db::after_commit(count_first);
    throw std::runtime_error("refused");
  }),
               std::runtime_error);
  EXPECT_EQ(first_runs, 0);
  db().write([](soci::session&) {});
  EXPECT_EQ(first_runs, 0);
}

TEST_P(AfterCommit, IsDroppedWithANestedWriteThatRolledBack) {
  db().write([&](soci::session&) {
    try {
      db().write([](soci::session&) {
        db::after_commit(count_first);
        throw std::runtime_error("refused");
      });
    } catch (const std::runtime_error&) {
      // The outer write goes on and commits.
    }
    db().write([](soci::session&) { db::after_commit(count_second); });
  });
  EXPECT_EQ(first_runs, 0);
  EXPECT_EQ(second_runs, 1);
}

TEST_P(AfterCommit, RunsAtOnceOutsideAWriteTransaction) {
  db::after_commit(count_first);
  EXPECT_EQ(first_runs, 1);
}

INSTANTIATE_TEST_SUITE_P(Engines, AfterCommit, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "PostgreSQL" : "SQLite"; });

}  // namespace
