#include "mail/mail_sender.hpp"

#include <algorithm>
#include <atomic>

#include "core/clock.hpp"
#include "core/log.hpp"
#include "core/random.hpp"
#include "core/thread_name.hpp"
#include "http/metrics.hpp"

namespace mail {

namespace {

constexpr auto kPollInterval = std::chrono::seconds(1);
constexpr std::int64_t kMaxRetryDelayMs = 5 * core::kMsPerMinute;
// Time on top of EMAIL_TIMEOUT in a message's lease: opening it before the
// attempt and recording the outcome after (one write, milliseconds).
constexpr std::int64_t kLeaseMarginMs = 2 * core::kMsPerSecond;
constexpr std::size_t kMaxErrorLength = 500;

std::string shorten(const std::string& error) {
  return error.substr(0, kMaxErrorLength);
}

}  // namespace

std::int64_t retry_delay_ms(int failed_attempts, std::int64_t base_ms) {
  std::int64_t delay = std::clamp<std::int64_t>(base_ms, 0, kMaxRetryDelayMs);
  for (int i = 1; i < failed_attempts && delay < kMaxRetryDelayMs; ++i) {
    delay = std::min(delay * 2, kMaxRetryDelayMs);
  }
  const auto half = delay / 2;
  return delay - half + core::random_below(static_cast<std::uint32_t>(half + 1));
}

// Process counters and the database the metrics collector reads. The
// collector may outlive the Sender (the registry has no removal), so it holds
// this by shared_ptr and goes quiet once `database` is cleared.
struct Sender::Stats {
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> errors{0};
  std::mutex mutex;
  db::Database* database = nullptr;

  void render(std::string& out) {
    std::lock_guard lock(mutex);
    if (database == nullptr) return;
    http::append_metric(out, "emails_sent_total", "counter", "Emails delivered to the backend.",
                        static_cast<double>(sent));
    http::append_metric(out, "emails_failed_total", "counter",
                        "Emails given up on after their last attempt.",
                        static_cast<double>(failed));
    http::append_metric(out, "email_send_errors_total", "counter",
                        "Failed delivery attempts, retried or not.", static_cast<double>(errors));
    try {
      const auto depth = database->read([](soci::session& sql) { return store::depth(sql); });
      http::append_metric(out, "outbox_depth", "gauge", "Emails queued or being sent.",
                          static_cast<double>(depth));
    } catch (const std::exception&) {
      // The database is down: /readyz says so; the depth is simply absent.
    }
  }
};

Sender::Sender(const core::Config& config, db::Database& database, const Outbox& outbox,
               std::unique_ptr<Backend> backend)
    : database_(database),
      outbox_(outbox),
      backend_(std::move(backend)),
      max_attempts_(config.email_max_attempts),
      retry_base_ms_(config.email_retry_base_ms),
      // One message per claim, leased for one attempt: a live sender records
      // the outcome before the lease ends, and the message a crashed sender
      // held is taken over seconds later. (Batches of 10 leased for 10
      // attempts kept a code, valid 5 minutes, away for 150 s after a kill.)
      lease_ms_(config.email_timeout_ms + kLeaseMarginMs),
      stats_(std::make_shared<Stats>()) {
  stats_->database = &database_;
  http::metrics().add_collector([stats = stats_](std::string& out) { stats->render(out); });
}

Sender::~Sender() {
  stop();
  std::lock_guard lock(stats_->mutex);
  stats_->database = nullptr;
}

void Sender::start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mutex_);
    stopping_ = false;
  }
  thread_ = std::thread([this] { run(); });
}

void Sender::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  wakeup_.notify_one();
}

void Sender::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wakeup_.notify_one();
  if (thread_.joinable()) thread_.join();
}

bool Sender::stopping() {
  std::lock_guard lock(mutex_);
  return stopping_;
}

void Sender::run() {
  core::name_this_thread("mail-sender");
  while (!stopping()) {
    bool more = false;
    try {
      more = send_next();
    } catch (const std::exception& error) {
      // Typically the database is unreachable: keep polling until it is back.
      core::log::event("error", {{"msg", "outbox sender error"}, {"detail", error.what()}});
    }
    if (!more) wait_for_work();
  }
}

void Sender::wait_for_work() {
  std::unique_lock lock(mutex_);
  wakeup_.wait_for(lock, kPollInterval, [this] { return woken_ || stopping_; });
  woken_ = false;
}

// Returns true when a message was due: the next one may be too.
bool Sender::send_next() {
  const auto claimed = database_.write(
      [this](soci::session& sql) { return store::claim_due(sql, core::now_ms(), lease_ms_, 1); });
  if (claimed.empty()) return false;
  deliver(claimed.front());
  return true;
}

void Sender::deliver(const store::Claimed& message) {
  Email email;
  try {
    email = outbox_.open(message.recipient, message.payload);
  } catch (const std::exception& error) {
    return give_up(message, error.what());  // no retry can open it
  }
  try {
    backend_->send(email);
  } catch (const std::exception& error) {
    return retry_or_give_up(message, error.what());
  }
  record_sent(message);
}

void Sender::record_sent(const store::Claimed& message) {
  ++stats_->sent;
  const bool recorded = database_.write(
      [&](soci::session& sql) { return store::mark_sent(sql, message, core::now_ms()); });
  if (!recorded) {
    // Our lease ran out and another sender took the row over: it may send again.
    core::log::event("warn",
                     {{"msg", "email sent after its claim expired"}, {"outbox_id", message.id}});
  }
}

void Sender::retry_or_give_up(const store::Claimed& message, const std::string& error) {
  ++stats_->errors;
  const int failed = message.attempts + 1;
  if (failed >= max_attempts_) return give_up(message, error);
  const auto delay = retry_delay_ms(failed, retry_base_ms_);
  database_.write([&](soci::session& sql) {
    return store::schedule_retry(sql, message, core::now_ms() + delay, shorten(error));
  });
  core::log::event("warn", {{"msg", "email not sent; will retry"},
                            {"outbox_id", message.id},
                            {"attempt", failed},
                            {"retry_in_ms", delay},
                            {"error", shorten(error)}});
}

void Sender::give_up(const store::Claimed& message, const std::string& error) {
  ++stats_->failed;
  database_.write(
      [&](soci::session& sql) { return store::mark_failed(sql, message, shorten(error)); });
  core::log::event("error", {{"msg", "email failed for good"},
                             {"outbox_id", message.id},
                             {"attempts", message.attempts + 1},
                             {"error", shorten(error)}});
}

}  // namespace mail
