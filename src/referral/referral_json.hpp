#pragma once
#include <boost/json/value.hpp>

#include "core/json_writer.hpp"
#include "referral/referral_store.hpp"

namespace referral {

// A referral's fraud flags as the API shows them: the stored JSON array, or [].
boost::json::value flags_json(const std::string& flags);

// A referral as the admin routes show it (GET /api/admin/referrals/flagged),
// also the data of the referral.* events: written as text, since every
// apply publishes it (a boost::json object built and serialised per event
// cost more than the text).
void write_admin_referral(core::JsonWriter& out, const store::FlaggedReferral& item);

}  // namespace referral
