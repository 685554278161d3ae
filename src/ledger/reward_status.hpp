#pragma once

// A reward's status (rewards.status, CHECKed to these three by the schema:
// migrations/0016_reward_rules.sql, 0019_reward_counters.sql). It is a
// projection of the reward's ledger entries (docs/ARCHITECTURE.md, "The
// ledger"), so the names live here: the ledger and every domain that
// depends on it (reward, importer, analytics) use the same ones.
namespace ledger::reward_status {

inline constexpr const char* kPending = "PENDING";
inline constexpr const char* kCredited = "CREDITED";
inline constexpr const char* kRevoked = "REVOKED";
// Every status, in that order.
inline constexpr const char* kAll[] = {kPending, kCredited, kRevoked};

}  // namespace ledger::reward_status
