#pragma once
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/jwt.hpp"

namespace auth {

// Tokens whose header, signature and claims were checked, so a client that
// sends the same token on every request pays the HMAC, base64 and JSON work
// once: 4.1 us of a verify-session's ~40 us of CPU on the project's 2-core VM
// (docs/PERFORMANCE.md, "Verified tokens"). Only a token verify_token accepted
// is stored, under its whole text; the caller checks a hit's expiry as
// verify_token does. Whether the session behind a token is still alive is not
// this class's question (SessionCache, the database).
class VerifiedTokens {
 public:
  explicit VerifiedTokens(std::size_t max_entries) : max_entries_(max_entries) {}

  // The claims of `token` when it was verified before, expired or not.
  std::optional<TokenClaims> find(std::string_view token);
  void remember(std::string_view token, const TokenClaims& claims, std::int64_t now_seconds);
  std::size_t size();

 private:
  struct TextHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return std::hash<std::string_view>{}(text);
    }
  };
  void make_room_locked(std::int64_t now_seconds);

  const std::size_t max_entries_;
  std::mutex mutex_;
  std::unordered_map<std::string, TokenClaims, TextHash, std::equal_to<>> entries_;
};

}  // namespace auth
