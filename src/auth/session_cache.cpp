#include "auth/session_cache.hpp"

#include <algorithm>
#include <iterator>

namespace auth {

SessionCache::SessionCache(Limits limits) : limits_(limits) {}

std::optional<store::SessionCheck> SessionCache::find(const std::string& session_id,
                                                      long long now) {
  if (fresh_at(now)) {
    std::lock_guard lock(mutex_);
    const auto found = entries_.find(session_id);
    if (found != entries_.end() && now < found->second.valid_until) {
      counts_->hits.fetch_add(1, std::memory_order_relaxed);
      return found->second.check;
    }
  }
  return std::nullopt;
}

SessionCache::Ticket SessionCache::ticket() {
  counts_->misses.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mutex_);
  return {generation_};
}

void SessionCache::store(const Ticket& ticket, const std::string& session_id,
                         store::SessionCheck check, long long now) {
  if (limits_.max_entries == 0 || !fresh_at(now)) return;
  // The password hash is not needed to authenticate and changes on its own
  // (a login upgrading it): it is not kept.
  check.user.password_hash.clear();
  const long long valid_until = std::min(now + limits_.ttl_ms, check.expires_at);
  std::lock_guard lock(mutex_);
  if (ticket.generation != generation_) return;  // something changed during the read
  make_room_locked(now);
  put_locked(session_id, Entry{std::move(check), valid_until});
}

void SessionCache::put_locked(const std::string& session_id, Entry entry) {
  if (const auto old = entries_.find(session_id); old != entries_.end()) erase_locked(old);
  sessions_of_user_[entry.check.user.id].push_back(session_id);
  entries_.emplace(session_id, std::move(entry));
}

SessionCache::Entries::iterator SessionCache::erase_locked(Entries::iterator entry) {
  const auto user = sessions_of_user_.find(entry->second.check.user.id);
  auto& ids = user->second;
  std::erase(ids, entry->first);
  if (ids.empty()) sessions_of_user_.erase(user);
  return entries_.erase(entry);
}

void SessionCache::touched(const std::string& session_id, long long last_seen_at) {
  std::lock_guard lock(mutex_);
  const auto found = entries_.find(session_id);
  if (found != entries_.end()) found->second.check.last_seen_at = last_seen_at;
}

void SessionCache::invalidate(const std::string& message) {
  counts_->invalidations.fetch_add(1, std::memory_order_relaxed);
  if (message.starts_with("s:")) {
    forget_session(message.substr(2));
  } else if (message.starts_with("u:")) {
    forget_user(message.substr(2));
  } else {
    std::lock_guard lock(mutex_);
    drop_all_locked();
  }
}

void SessionCache::forget_session(const std::string& session_id) {
  std::lock_guard lock(mutex_);
  ++generation_;
  if (const auto found = entries_.find(session_id); found != entries_.end()) erase_locked(found);
}

void SessionCache::forget_user(const std::string& user_id) {
  std::lock_guard lock(mutex_);
  ++generation_;
  const auto user = sessions_of_user_.find(user_id);
  if (user == sessions_of_user_.end()) return;
  for (const auto& session_id : user->second) entries_.erase(session_id);
  sessions_of_user_.erase(user);
}

// A late proof keeps the entries: it came on the same connection as every
// invalidation sent before it, and those were applied as they arrived, lapse
// or not (store() alone waits for freshness). Only a new connection, which
// may have missed some, starts empty (lost()). Dropping here would put every
// request's session read on the database whenever an overloaded instance's
// ping runs late, which adds to the load that made it late.
void SessionCache::confirm_fresh(long long fresh_until) {
  counts_->fresh_until.store(fresh_until, std::memory_order_release);
}

void SessionCache::lost() {
  counts_->fresh_until.store(0, std::memory_order_release);
  std::lock_guard lock(mutex_);
  drop_all_locked();
}

void SessionCache::drop_all_locked() {
  ++generation_;
  if (!entries_.empty()) counts_->drops.fetch_add(1, std::memory_order_relaxed);
  entries_.clear();
  sessions_of_user_.clear();
}

// Expired entries go first; when live ones still fill it, an eighth of them
// (in bucket order, so arbitrary ones) make room at once, so a full cache
// scans once per many inserts. A dropped entry only costs one read.
void SessionCache::make_room_locked(long long now) {
  if (entries_.size() < limits_.max_entries) return;
  for (auto entry = entries_.begin(); entry != entries_.end();) {
    entry = entry->second.valid_until <= now ? erase_locked(entry) : std::next(entry);
  }
  const auto keep = limits_.max_entries - std::max<std::size_t>(1, limits_.max_entries / 8);
  while (entries_.size() > keep) erase_locked(entries_.begin());
}

}  // namespace auth
