#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/auth_store.hpp"

namespace auth {

// The channel migration 0017's triggers NOTIFY: "s:<session id>" when a
// session ends early, "u:<user id>" when a user's row changes.
inline constexpr const char* kSessionChannel = "referrald_sessions";

// Live sessions (and their users) held in memory, so an authenticated
// request reads no row (docs/ARCHITECTURE.md, "Sessions in memory"). It is
// trusted only while its invalidation feed (db::NotificationListener on
// PostgreSQL) proves itself fresh: every change to a session or its user
// arrives as a notification within milliseconds, and a feed that is down,
// reconnecting or silent past its deadline drops the whole cache, so reads go
// to the database until it is back (fail closed).
class SessionCache {
 public:
  struct Limits {
    std::size_t max_entries = 100000;
    long long ttl_ms = 60000;  // an entry is re-read at least this often
  };
  struct Counts {
    std::atomic<long long> hits{0};
    std::atomic<long long> misses{0};
    std::atomic<long long> invalidations{0};
    std::atomic<long long> drops{0};  // whole cache dropped: the feed was lost
    // Until when (ms since the epoch) the feed is trusted; 0 while lost.
    std::atomic<long long> fresh_until{0};
  };
  // Taken before a database read (counted as a miss); a later invalidation
  // makes it stale, so a row read before a revocation is never stored after it.
  struct Ticket {
    long long generation = -1;
  };

  explicit SessionCache(Limits limits);

  // The feed proves itself caught up at `now`: entries may be trusted.
  bool fresh_at(long long now) const {
    return now < counts_->fresh_until.load(std::memory_order_acquire);
  }
  // The entry, when the feed is fresh and the entry unexpired at `now`.
  std::optional<store::SessionCheck> find(const std::string& session_id, long long now);
  Ticket ticket();
  void store(const Ticket& ticket, const std::string& session_id, store::SessionCheck check,
             long long now);
  void touched(const std::string& session_id, long long last_seen_at);

  // The feed: "s:<session id>" or "u:<user id>"; anything else drops all.
  void invalidate(const std::string& message);
  // This instance's own changes, right after their commit, so its next
  // request sees them without waiting for the feed (which repeats them).
  void forget_session(const std::string& session_id);
  void forget_user(const std::string& user_id);
  // The feed delivered everything committed up to a moment: trusted until
  // `fresh_until`. After a loss (not after a mere lapse) it starts empty.
  void confirm_fresh(long long fresh_until);
  void lost();

  std::shared_ptr<const Counts> shared_counts() const { return counts_; }

 private:
  struct Entry {
    store::SessionCheck check;
    long long valid_until = 0;  // min(stored + ttl, session expiry)
  };
  using Entries = std::unordered_map<std::string, Entry>;
  void put_locked(const std::string& session_id, Entry entry);
  Entries::iterator erase_locked(Entries::iterator entry);
  void drop_all_locked();
  void make_room_locked(long long now);

  Limits limits_;
  std::mutex mutex_;
  long long generation_ = 0;
  Entries entries_;
  // user id -> the ids of its sessions in entries_, so that a user's change
  // costs a lookup: a scan of 100,000 entries took 15 ms under the mutex, and
  // every verified signup in the cluster sends one (migration 0017).
  std::unordered_map<std::string, std::vector<std::string>> sessions_of_user_;
  std::shared_ptr<Counts> counts_ = std::make_shared<Counts>();
};

}  // namespace auth
