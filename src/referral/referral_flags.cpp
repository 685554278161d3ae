#include "referral/referral_flags.hpp"

#include <boost/json.hpp>

#include "core/json_writer.hpp"
#include "referral/referral_events.hpp"
#include "referral/referral_store.hpp"

namespace referral {

namespace {

constexpr const char* kSameIp = "same_ip";
constexpr const char* kBurst = "burst";
constexpr const char* kFraudRules[] = {kSameIp, kBurst};

boost::json::array parsed(const std::string& flags) {
  if (flags.empty()) return {};
  auto value = boost::json::parse(flags);
  return value.is_array() ? std::move(value.as_array()) : boost::json::array{};
}

bool carries(const boost::json::array& flags, std::string_view rule) {
  for (const auto& flag : flags) {
    const auto* name = flag.is_object() ? flag.as_object().if_contains("rule") : nullptr;
    if (name != nullptr && name->is_string() && name->as_string() == rule) return true;
  }
  return false;
}

}  // namespace

bool has_fraud_flag(const std::string& flags) {
  const auto list = parsed(flags);
  for (const char* rule : kFraudRules) {
    if (carries(list, rule)) return true;
  }
  return false;
}

std::string fraud_flags(const FraudFindings& found) {
  if (!found.same_ip && !found.burst_limit) return "";
  core::JsonWriter flags;
  flags.begin_array();
  const auto flag = [&](std::string_view rule, const std::string& detail) {
    flags.begin_object().field("rule", rule).field("detail", detail).end_object();
  };
  if (found.same_ip) {
    flag(kSameIp,
         "The referee's IP " + *found.same_ip + " matches a recent login of the referrer.");
  }
  if (found.burst_limit) {
    const auto limit = std::to_string(*found.burst_limit);
    flag(kBurst,
         "The code was used more than " + limit + " times within an hour (limit " + limit + ").");
  }
  return flags.end_array().take();
}

void add_flag(soci::session& sql, const std::string& referral_id, const std::string& rule,
              const std::string& detail, long long now_ms) {
  const auto referral = store::find_referral(sql, referral_id);
  if (!referral) return;
  auto list = parsed(referral->flags);
  if (carries(list, rule)) return;
  list.push_back({{"rule", rule}, {"detail", detail}});
  store::set_referral_flags(sql, referral_id, boost::json::serialize(list));
  publish_flagged(sql, referral_id, now_ms);
}

}  // namespace referral
