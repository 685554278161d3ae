#pragma once
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/config.hpp"
#include "db/database.hpp"
#include "mail/mail_backend.hpp"
#include "mail/outbox.hpp"
#include "mail/outbox_store.hpp"

namespace mail {

// How long to wait before the next try after `failed_attempts` failures (>= 1):
// `base_ms` doubling per failure, capped at 5 minutes, then jittered down by up
// to half so mail that failed together (an SMTP outage) does not retry together.
std::int64_t retry_delay_ms(int failed_attempts, std::int64_t base_ms);

// The background delivery loop for the outbox: claims one due message at a
// time (leased for one attempt), hands it to the backend, and records sent /
// retry / failed. Any number of
// servers may run one against the same database (claims are leased and fenced).
// Registers emails_sent_total, emails_failed_total, email_send_errors_total and
// outbox_depth with http::metrics().
class Sender {
 public:
  // `database` and `outbox` must outlive the Sender.
  Sender(const core::Config& config, db::Database& database, const Outbox& outbox,
         std::unique_ptr<Backend> backend);
  ~Sender();  // stop()s
  Sender(const Sender&) = delete;
  Sender& operator=(const Sender&) = delete;

  void start();  // starts the thread; no-op while running
  // Call after committing a transaction that enqueued mail, so it goes out now
  // rather than at the next poll.
  void wake();
  // Finishes the message in hand and joins the thread.
  void stop();

 private:
  struct Stats;

  void run();
  bool send_next();
  void deliver(const store::Claimed& message);
  void record_sent(const store::Claimed& message);
  void retry_or_give_up(const store::Claimed& message, const std::string& error);
  void give_up(const store::Claimed& message, const std::string& error);
  void wait_for_work();
  bool stopping();

  db::Database& database_;
  const Outbox& outbox_;
  std::unique_ptr<Backend> backend_;
  int max_attempts_;
  std::int64_t retry_base_ms_;
  std::int64_t lease_ms_;
  std::shared_ptr<Stats> stats_;  // shared with the metrics collector

  std::mutex mutex_;
  std::condition_variable wakeup_;
  bool woken_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mail
