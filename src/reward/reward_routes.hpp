#pragma once
#include "http/router.hpp"
#include "idempotency/idempotency_service.hpp"
#include "reward/reward_service.hpp"

namespace reward {

// SPEC §3 reward reads, §5 reward admin (configs, ledger, events), §7 aliases.
void add_routes(http::Router& router, RewardService& service, idempotency::IdempotencyService& idempotency);

}  // namespace reward
