#pragma once
#include "http/router.hpp"
#include "idempotency/idempotency_service.hpp"
#include "referral/referral_service.hpp"

namespace referral {

// SPEC §3 code routes, the flagged list of §5, and their §7 aliases.
void add_routes(http::Router& router, ReferralService& service, idempotency::IdempotencyService& idempotency);

}  // namespace referral
