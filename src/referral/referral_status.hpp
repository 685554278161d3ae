#pragma once

// A referral's status (referrals.status and the referral_counters names,
// CHECKed to these three by the schema: migrations/0018_counters.sql,
// 0025_checked_enumerations.sql). Rewards move it (docs/API.md, Referral
// status), so the reward, importer and analytics domains use these names too.
namespace referral::referral_status {

inline constexpr const char* kPending = "PENDING";
inline constexpr const char* kSuccess = "SUCCESS";
inline constexpr const char* kRejected = "REJECTED";
// Every status, in that order.
inline constexpr const char* kAll[] = {kPending, kSuccess, kRejected};

}  // namespace referral::referral_status
