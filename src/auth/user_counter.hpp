#pragma once

// The rows of user_counters (CHECKed to these two names by the schema:
// migrations/0018_counters.sql). The auth store writes them in the
// transactions that add, verify and delete users; the analytics store reads
// their sums for admin stats, so both take the names from here.
namespace auth::user_counter {

inline constexpr const char* kUsers = "users";
inline constexpr const char* kVerified = "verified";

}  // namespace auth::user_counter
