#pragma once
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "referral/referral_store.hpp"

namespace referral {

// A referral's fraud flags as the API shows them: the stored JSON array, or [].
boost::json::value flags_json(const std::string& flags);

// A referral as the admin routes show it (GET /api/admin/referrals/flagged),
// also the data of the referral.* events.
boost::json::object admin_referral_json(const store::FlaggedReferral& item);

}  // namespace referral
