#pragma once
#include <soci/session.h>

#include <cstdint>
#include <string>

#include "referral/referral_store.hpp"

// The referral events of the spine (src/events/), published in the caller's
// transaction; each carries the referral as the admin routes show it.
namespace referral {

// referral.created, then referral.flagged when a fraud rule flagged it.
void publish_created(soci::session& sql, const store::FlaggedReferral& item, std::int64_t now_ms);

// referral.flagged, with the referral as it is now (its new flag set).
void publish_flagged(soci::session& sql, const std::string& referral_id, std::int64_t now_ms);

// referral.status_changed, with the referral as it is now (status set).
void publish_status_changed(soci::session& sql, const std::string& referral_id,
                            std::int64_t now_ms);

}  // namespace referral
