#include "auth/verified_tokens.hpp"

#include <iterator>

namespace auth {

std::optional<TokenClaims> VerifiedTokens::find(std::string_view token) {
  const std::lock_guard lock(mutex_);
  const auto found = entries_.find(token);
  if (found == entries_.end()) return std::nullopt;
  return found->second;
}

void VerifiedTokens::remember(std::string_view token, const TokenClaims& claims,
                              std::int64_t now_seconds) {
  if (max_entries_ == 0) return;
  const std::lock_guard lock(mutex_);
  if (entries_.size() >= max_entries_) make_room_locked(now_seconds);
  entries_.try_emplace(std::string(token), claims);
}

std::size_t VerifiedTokens::size() {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

// Expired tokens go first; if every token is still live the whole map goes,
// which keeps memory bounded at the cost of one verification per live token.
void VerifiedTokens::make_room_locked(std::int64_t now_seconds) {
  for (auto entry = entries_.begin(); entry != entries_.end();) {
    entry = entry->second.exp <= now_seconds ? entries_.erase(entry) : std::next(entry);
  }
  if (entries_.size() >= max_entries_) entries_.clear();
}

}  // namespace auth
