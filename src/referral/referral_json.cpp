#include "referral/referral_json.hpp"

#include <boost/json/parse.hpp>

namespace referral {

boost::json::value flags_json(const std::string& flags) {
  if (flags.empty()) return boost::json::array{};
  return boost::json::parse(flags);
}

void write_admin_referral(core::JsonWriter& out, const store::FlaggedReferral& item) {
  const auto& referral = item.referral;
  out.begin_object()
      .field("referral_id", referral.id)
      .field("referrer_id", referral.referrer_id)
      .field("referrer_email", item.referrer_email)
      .field("referee_id", referral.referee_id)
      .field("referee_email", item.referee_email)
      .field("status", referral.status)
      .field("ip", referral.ip)
      .key("created_at")
      .timestamp(referral.created_at)
      .key("flags")
      .json(referral.flags.empty() ? "[]" : referral.flags)
      .end_object();
}

}  // namespace referral
