#pragma once
#include "http/router.hpp"
#include "idempotency/idempotency_service.hpp"
#include "referral/referral_service.hpp"

namespace referral {

// docs/API.md Referrals routes, the admin flagged list, and their aliases.
void add_routes(http::Router& router, ReferralService& service, idempotency::IdempotencyService& idempotency);

}  // namespace referral
