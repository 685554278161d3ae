#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "analytics/analytics_store.hpp"

namespace analytics {

// The leaderboard's longest list, shared by every request: a burst of admin
// reads costs one query per refresh instead of one each (docs/ARCHITECTURE.md,
// "The leaderboard cache"). A list is served while it is at most `max_age`
// old and was loaded after every change to referrer_stats this process
// committed before the request came (the generation). One load runs at a
// time, with no lock held during it; requests that need a newer list wait
// for the next one.
class LeaderboardCache {
 public:
  using Rows = std::vector<store::Leader>;
  using Load = std::function<Rows()>;
  using Generation = std::function<std::uint64_t()>;
  using Clock = std::chrono::steady_clock;

  LeaderboardCache(std::chrono::milliseconds max_age, Generation generation, Load load);

  // A list fresh enough for a request arriving now; a failed load throws its
  // error to the request that ran it, and a waiting request runs the next.
  std::shared_ptr<const Rows> rows();

 private:
  struct Snapshot {
    std::shared_ptr<const Rows> rows;
    std::uint64_t generation = 0;  // taken before the load's query began
    Clock::time_point loaded_at;   // likewise
  };

  bool serves(const Snapshot& snapshot, std::uint64_t generation, Clock::time_point now) const;
  std::shared_ptr<const Rows> load(std::unique_lock<std::mutex>& lock);

  const std::chrono::milliseconds max_age_;
  const Generation generation_;
  const Load load_;
  std::mutex mutex_;
  std::condition_variable loaded_;
  std::optional<Snapshot> snapshot_;
  bool loading_ = false;
};

}  // namespace analytics
