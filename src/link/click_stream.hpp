#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "db/database.hpp"
#include "link/link_store.hpp"

// Clicks are a write stream, not transactions: /r/{code} appends a click to
// a bounded in-memory buffer and returns; one flusher thread writes what
// accumulated every CLICK_FLUSH_INTERVAL (sooner when the buffer is half
// full) in one transaction — the raw rows, the first-visit claims and the
// counters they add to. A crash loses at most the clicks of the last
// interval; stop() (SIGTERM) writes them first.
namespace links {

class ClickStream {
 public:
  struct Counts {
    std::atomic<long long> buffered{0};  // waiting for the next flush
    std::atomic<long long> flushed{0};   // committed
    std::atomic<long long> dropped{0};   // refused: the buffer was full
    std::atomic<long long> failed_flushes{0};
  };

  ClickStream(db::Database& database, long long flush_interval_ms, std::size_t capacity);
  ~ClickStream();

  // Never waits for the database; false (and counted as dropped) when full.
  bool record(store::ClickRow click);
  void start();
  void stop();   // joins the flusher after a last flush
  void flush();  // writes what is buffered now, on the caller's thread

  const Counts& counts() const { return *counts_; }
  std::shared_ptr<const Counts> shared_counts() const { return counts_; }

 private:
  void run();
  void write(std::vector<store::ClickRow>& batch);
  // True when clicks were dropped.
  bool drop_deleted_codes(soci::session& sql, std::vector<store::ClickRow>& batch);
  void requeue(std::vector<store::ClickRow>& batch, bool database_away);
  std::vector<bool> known_repeats(const std::vector<store::ClickRow>& batch);
  void remember_claims(const std::vector<store::ClickRow>& batch);

  db::Database& database_;
  const long long flush_interval_ms_;
  const std::size_t capacity_;
  const std::size_t flush_early_at_;  // half the capacity: the flusher starts at once
  std::shared_ptr<Counts> counts_ = std::make_shared<Counts>();
  std::mutex mutex_;
  std::vector<store::ClickRow> pending_;
  std::mutex flush_mutex_;              // one batch in flight: flush() and the thread
  std::vector<store::ClickRow> spare_;  // the emptied batch, under flush_mutex_
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;

  // First-visit claims this instance has committed (code, day, visitor):
  // a repeat visitor's next click needs no claim insert. Touched under
  // flush_mutex_ only (inside a write too, which on SQLite runs on the
  // group-commit writer while the flushing thread waits for it); started
  // over when it grows large.
  std::unordered_set<std::string> claimed_;
};

// The quarter hour a click is counted in (UTC; every zone's offset is a
// whole number of quarter hours).
constexpr long long kBucketMs = 15LL * 60 * 1000;

}  // namespace links
