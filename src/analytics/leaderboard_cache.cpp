#include "analytics/leaderboard_cache.hpp"

#include <exception>

namespace analytics {

LeaderboardCache::LeaderboardCache(std::chrono::milliseconds max_age, Generation generation,
                                   Load load)
    : max_age_(max_age), generation_(std::move(generation)), load_(std::move(load)) {}

std::shared_ptr<const LeaderboardCache::Rows> LeaderboardCache::rows() {
  // Taken on arrival: the changes a request must see are those committed
  // before it came, so a load that began after this serves it.
  const auto arrived_generation = generation_();
  const auto arrived_at = Clock::now();
  std::unique_lock lock(mutex_);
  while (true) {
    if (snapshot_ && serves(*snapshot_, arrived_generation, arrived_at)) return snapshot_->rows;
    // A request waits for the load under way rather than starting its own:
    // under a stream of applies each request needs a newer list than the
    // last, and with one load at a time the database still sees at most one
    // leaderboard query at once.
    if (!loading_) return load(lock);
    loaded_.wait(lock);
  }
}

bool LeaderboardCache::serves(const Snapshot& snapshot, std::uint64_t generation,
                              Clock::time_point now) const {
  return snapshot.generation >= generation && now - snapshot.loaded_at <= max_age_;
}

std::shared_ptr<const LeaderboardCache::Rows> LeaderboardCache::load(
    std::unique_lock<std::mutex>& lock) {
  loading_ = true;
  lock.unlock();
  Snapshot fresh{nullptr, generation_(), Clock::now()};
  // A failed load still ends the wait of the requests behind it: the next
  // one starts its own load.
  std::exception_ptr failure;
  try {
    fresh.rows = std::make_shared<const Rows>(load_());
  } catch (...) {
    failure = std::current_exception();
  }
  lock.lock();
  loading_ = false;
  if (!failure) snapshot_ = fresh;
  loaded_.notify_all();
  if (failure) std::rethrow_exception(failure);
  return fresh.rows;
}

}  // namespace analytics
