#pragma once
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace db {

// One PostgreSQL connection of its own, on a thread of its own, that LISTENs
// to a channel and hands each notification to `Feed::message`. It also proves
// that it is alive and caught up: every kPingInterval it NOTIFYs a channel only
// it listens to, and when that comes back (notifications arrive in commit
// order, so everything committed before the ping has arrived too) it calls
// `Feed::fresh` with a deadline kFreshForMs after the ping was sent. A ping
// not back by then leaves the deadline to pass (the consumer stops trusting
// the feed); an error, a dropped connection or a ping 2 s late calls
// `Feed::lost` and the listener reconnects. So the consumer never trusts a
// feed that may have missed something for longer than kFreshForMs.
//
// The connection must reach PostgreSQL itself: through PgBouncer in
// transaction mode a LISTEN sits on whichever server connection ran it. The
// listener checks that its ping came from its own backend; PgBouncer answers
// with another process id than the one it announced; the listener then logs
// an error and stops, and the feed is never fresh (docs/OPERATIONS.md,
// "Behind PgBouncer").
class NotificationListener {
 public:
  struct Feed {
    std::function<void(const std::string& payload)> message;
    // `fresh_until` in ms since the epoch (core::now_ms()).
    std::function<void(long long fresh_until)> fresh;
    std::function<void()> lost;
  };
  struct Options {
    std::string url;               // postgresql://... (DATABASE_LISTEN_URL)
    std::string channel;           // an unquoted identifier
    std::string application_name;  // shown in pg_stat_activity
  };

  static constexpr long long kPingIntervalMs = 25;
  static constexpr long long kFreshForMs = 100;

  NotificationListener(Options options, Feed feed);
  ~NotificationListener();
  NotificationListener(const NotificationListener&) = delete;
  NotificationListener& operator=(const NotificationListener&) = delete;

  void start();
  void stop();

 private:
  struct Connection;
  // How one connection's life ended: `worked` (it was fresh at least once:
  // reconnect at once), `failed` (back off), `misdirected` (a pooler answers,
  // not PostgreSQL: a setting to fix, so the listener gives up).
  enum class Outcome { worked, failed, misdirected };
  void run();
  Outcome serve_connection();
  bool wait_before_retry(int failures);

  Options options_;
  Feed feed_;
  std::string ping_channel_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
};

}  // namespace db
