#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "db/database.hpp"

namespace webhook {

// Webhook series for /metrics: attempts by result (process counters), and
// the queue read from the pending rows' partial index (every instance's
// queue, since they share it). The registry keeps collectors for the life
// of the process, so it holds this by shared_ptr and detach() quiets it.
class DeliveryMetrics {
 public:
  static std::shared_ptr<DeliveryMetrics> registered(db::Database& database);

  void count_delivered(std::uint64_t count) { delivered_ += count; }
  void count_retried() { ++retried_; }
  void count_failed() { ++failed_; }
  // One write round of the dispatcher and its time (queueing for the writer included).
  void count_round(std::int64_t elapsed_us) {
    ++rounds_;
    round_us_ += static_cast<std::uint64_t>(elapsed_us);
  }
  void detach();
  void render(std::string& out);

 private:
  explicit DeliveryMetrics(db::Database& database) : database_(&database) {}

  std::atomic<std::uint64_t> delivered_{0};
  std::atomic<std::uint64_t> retried_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> rounds_{0};
  std::atomic<std::uint64_t> round_us_{0};
  std::mutex mutex_;
  db::Database* database_;
};

}  // namespace webhook
