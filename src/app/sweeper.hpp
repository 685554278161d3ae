#pragma once
#include <condition_variable>
#include <mutex>
#include <thread>

#include "db/database.hpp"

namespace app {

// Background thread that purges expired sessions, codes, old sent mail and
// login addresses older than 30 days.
class Sweeper {
 public:
  Sweeper(db::Database& database, long long interval_ms) : database_(database), interval_ms_(interval_ms) {}
  ~Sweeper() { stop(); }
  void start();
  void stop();
  void sweep_once();

 private:
  db::Database& database_;
  long long interval_ms_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace app
