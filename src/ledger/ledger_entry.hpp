#pragma once
#include <string>
#include <string_view>

// One entry of the append-only ledger and its hash (docs/ARCHITECTURE.md,
// "The ledger": the canonical byte layout a third party re-verifies).
namespace ledger {

// The chain starts from this "previous hash" (64 zeros), at sequence 0.
inline const std::string kGenesisHash(64, '0');

inline constexpr const char* kCreated = "created";
inline constexpr const char* kCredited = "credited";
inline constexpr const char* kRevoked = "revoked";
// The actor of moves nobody asked for (auto credit, the hold timer).
inline constexpr const char* kSystemActor = "system";

struct Entry {
  long long seq = 0;
  std::string kind;  // created | credited | revoked
  std::string reward_id;
  std::string user_id;  // the beneficiary
  long long amount = 0;
  std::string unit;
  std::string actor;  // a user id, or "system"
  std::string reason;
  long long at = 0;  // epoch milliseconds
  std::string prev_hash;
  std::string hash;
};

inline constexpr std::string_view kLayoutTag = "referrald-ledger-v1";

// The bytes the hash covers: the tag kLayoutTag, then seq, kind,
// reward_id, user_id, amount, unit, actor, reason, at, prev_hash, each as a
// 4-byte big-endian length followed by its UTF-8 text (integers in decimal).
std::string canonical_bytes(const Entry& entry);
// Lowercase hex SHA-256 of canonical_bytes(entry).
std::string entry_hash(const Entry& entry);

}  // namespace ledger
