#pragma once
#include "core/periodic_thread.hpp"
#include "reward/reward_service.hpp"

namespace reward {

// Background thread that credits held rewards of auto-credit configs when
// their hold ends (RewardService::credit_due), every REWARD_TIMER_INTERVAL.
class HoldTimer {
 public:
  HoldTimer(RewardService& rewards, long long interval_ms)
      : rewards_(rewards), interval_ms_(interval_ms) {}
  ~HoldTimer() { stop(); }
  void start() {
    thread_.start("hold-timer", std::chrono::milliseconds(interval_ms_), [this] { run_once(); });
  }
  void stop() { thread_.stop(); }

 private:
  void run_once();

  RewardService& rewards_;
  long long interval_ms_;
  core::PeriodicThread thread_;
};

}  // namespace reward
