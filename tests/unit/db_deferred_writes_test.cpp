#include <gtest/gtest.h>
#include <soci/soci.h>

#include <string>
#include <vector>

#include "db/deferred_writes.hpp"

// The bookkeeping behind db::before_commit, without a database: which kept
// rows are written, and in what order (the ledger's head lock must be the
// last thing a transaction takes: docs/ARCHITECTURE.md, The ledger).
namespace {

std::vector<std::string> written;
std::vector<std::string> kept_a, kept_b;

void write_a(soci::session&) {
  for (const auto& row : kept_a) written.push_back("a:" + row);
  kept_a.clear();
}
void write_b(soci::session&) {
  for (const auto& row : kept_b) written.push_back("b:" + row);
  kept_b.clear();
}
std::size_t count_a() {
  return kept_a.size();
}
std::size_t count_b() {
  return kept_b.size();
}
void forget_a(std::size_t first) {
  if (first < kept_a.size()) kept_a.resize(first);
}
void forget_b(std::size_t first) {
  if (first < kept_b.size()) kept_b.resize(first);
}

constexpr db::DeferredWrite kLast{write_a, count_a, forget_a};  // Order::last by default
constexpr db::DeferredWrite kFirst{write_b, count_b, forget_b, db::DeferredWrite::Order::first};

class DeferredWrites : public ::testing::Test {
 protected:
  void SetUp() override {
    db::deferred_writes::forget_all();
    written.clear();
  }
  void TearDown() override { db::deferred_writes::forget_all(); }

  soci::session sql;  // never connected: the writes above do not use it
};

TEST_F(DeferredWrites, FirstWritesGoBeforeLastOnesWhateverTheRegistrationOrder) {
  kept_a = {"1", "2"};
  db::deferred_writes::add(kLast);
  kept_b = {"3"};
  db::deferred_writes::add(kFirst);
  db::deferred_writes::add(kLast);  // registered once only
  db::deferred_writes::write_all(sql);
  EXPECT_EQ(written, (std::vector<std::string>{"b:3", "a:1", "a:2"}));
  db::deferred_writes::write_all(sql);  // nothing is left registered
  EXPECT_EQ(written.size(), 3U);
}

TEST_F(DeferredWrites, RollingBackToAMarkForgetsWhatWasKeptAfterIt) {
  kept_a = {"kept"};
  db::deferred_writes::add(kLast);
  const auto mark = db::deferred_writes::mark();
  kept_a.push_back("dropped");
  kept_b = {"dropped too"};  // registered after the mark
  db::deferred_writes::add(kFirst);
  db::deferred_writes::roll_back_to(mark);
  db::deferred_writes::write_all(sql);
  EXPECT_EQ(written, (std::vector<std::string>{"a:kept"}));
  EXPECT_TRUE(kept_b.empty());
}

}  // namespace
