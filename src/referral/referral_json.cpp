#include "referral/referral_json.hpp"

#include <boost/json/parse.hpp>

#include "core/clock.hpp"

namespace referral {

boost::json::value flags_json(const std::string& flags) {
  if (flags.empty()) return boost::json::array{};
  return boost::json::parse(flags);
}

boost::json::object admin_referral_json(const store::FlaggedReferral& item) {
  const auto& referral = item.referral;
  return {{"referral_id", referral.id},
          {"referrer_id", referral.referrer_id},
          {"referrer_email", item.referrer_email},
          {"referee_id", referral.referee_id},
          {"referee_email", item.referee_email},
          {"status", referral.status},
          {"ip", referral.ip},
          {"created_at", core::format_timestamp(referral.created_at)},
          {"flags", flags_json(referral.flags)}};
}

}  // namespace referral
