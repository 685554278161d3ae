#include "analytics/leaderboard_cache.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
using analytics::LeaderboardCache;

// A loader whose every list carries its load number in `total`, and that
// records how many loads ever ran at once.
struct Loads {
  std::atomic<int> count{0};
  std::atomic<int> running{0};
  std::atomic<int> most_at_once{0};
  std::atomic<std::uint64_t> generation{0};
  std::chrono::milliseconds takes{0};

  LeaderboardCache cache(std::chrono::milliseconds max_age) {
    return LeaderboardCache(
        max_age, [this] { return generation.load(); }, [this] { return load(); });
  }

  LeaderboardCache::Rows load() {
    const int now_running = ++running;
    int most = most_at_once.load();
    while (now_running > most && !most_at_once.compare_exchange_weak(most, now_running)) {
    }
    std::this_thread::sleep_for(takes);
    const int number = ++count;
    --running;
    return {analytics::store::Leader{"user", "name", "email", 0, number}};
  }
};

long long load_number(const LeaderboardCache::Rows& rows) {
  return rows.at(0).total;
}

TEST(LeaderboardCache, ServesOneLoadUntilItIsOlderThanTheMaxAge) {
  Loads loads;
  auto cache = loads.cache(200ms);
  for (int i = 0; i < 50; ++i) EXPECT_EQ(load_number(*cache.rows()), 1);
  std::this_thread::sleep_for(250ms);
  EXPECT_EQ(load_number(*cache.rows()), 2);
}

TEST(LeaderboardCache, ACommittedChangeMakesTheNextReadLoad) {
  Loads loads;
  auto cache = loads.cache(60s);
  EXPECT_EQ(load_number(*cache.rows()), 1);
  ++loads.generation;
  EXPECT_EQ(load_number(*cache.rows()), 2);
  EXPECT_EQ(load_number(*cache.rows()), 2);
}

TEST(LeaderboardCache, ConcurrentMissesShareOneLoad) {
  Loads loads;
  loads.takes = 50ms;
  auto cache = loads.cache(60s);
  std::latch start(8);
  std::vector<std::jthread> readers;
  for (int i = 0; i < 8; ++i) {
    readers.emplace_back([&] {
      start.arrive_and_wait();
      EXPECT_EQ(load_number(*cache.rows()), 1);
    });
  }
  readers.clear();  // joins
  EXPECT_EQ(loads.count, 1);
}

// A read that comes after a change must not take the list of a load that
// began before it: it waits for (or runs) the next one. Changes between all
// reads still never make two loads run at once.
TEST(LeaderboardCache, AReadAfterAChangeGetsALoadThatBeganAfterIt) {
  Loads loads;
  loads.takes = 2ms;
  auto cache = loads.cache(60s);
  std::vector<std::jthread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      for (int n = 0; n < 20; ++n) {
        const auto finished_before = loads.count.load();
        ++loads.generation;  // a commit, as referral::add_to_stats counts it
        EXPECT_GT(load_number(*cache.rows()), finished_before);
      }
    });
  }
  readers.clear();  // joins
  EXPECT_EQ(loads.most_at_once, 1);
}

TEST(LeaderboardCache, AFailedLoadThrowsToItsCallerAndTheNextReadLoadsAgain) {
  std::atomic<int> calls{0};
  LeaderboardCache cache(
      60s, [] { return std::uint64_t{0}; },
      [&]() -> LeaderboardCache::Rows {
        if (++calls == 1) throw std::runtime_error("database gone");
        return {analytics::store::Leader{"user", "name", "email", 1, 1}};
      });
  EXPECT_THROW(cache.rows(), std::runtime_error);
  EXPECT_EQ(cache.rows()->size(), 1u);
  EXPECT_EQ(calls, 2);
}

}  // namespace
