#pragma once
#include <soci/session.h>

#include <optional>
#include <string>

// A referral's flags: a JSON array of {"rule", "detail"} (docs/API.md, Fraud
// flags). The fraud rules (same_ip, burst) hold its rewards for review; the
// reward rules add cap_reached and budget_exhausted, which only inform.
namespace referral {

bool has_fraud_flag(const std::string& flags);

// What apply's fraud rules found about a new referral.
struct FraudFindings {
  std::optional<std::string> same_ip;    // the referee's IP, seen at a recent login of the referrer
  std::optional<long long> burst_limit;  // the uses per hour the code reached
};
// The flags a new referral is stored with: "" when no rule found anything.
std::string fraud_flags(const FraudFindings& found);

// Adds the flag `rule` to the referral unless it carries it already, and
// publishes referral.flagged in the same transaction.
void add_flag(soci::session& sql, const std::string& referral_id, const std::string& rule,
              const std::string& detail, long long now_ms);

}  // namespace referral
