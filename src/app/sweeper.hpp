#pragma once
#include "core/periodic_thread.hpp"
#include "db/database.hpp"

namespace app {

// Background thread that purges expired sessions, codes, old sent mail,
// login addresses older than 30 days and old clicks.
class Sweeper {
 public:
  Sweeper(db::Database& database, long long interval_ms, long long click_retention_ms)
      : database_(database), interval_ms_(interval_ms), click_retention_ms_(click_retention_ms) {}
  ~Sweeper() { stop(); }
  void start() {
    thread_.start("sweeper", std::chrono::milliseconds(interval_ms_), [this] { sweep_once(); });
  }
  void stop() { thread_.stop(); }
  void sweep_once();

 private:
  // Share-link clicks older than CLICK_RETENTION (their counters stay) and
  // yesterday's first-visit claims (the day key that made them is gone).
  void sweep_clicks(long long now);

  db::Database& database_;
  long long interval_ms_;
  long long click_retention_ms_;
  core::PeriodicThread thread_;
};

}  // namespace app
