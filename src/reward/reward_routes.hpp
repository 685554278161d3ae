#pragma once
#include "http/router.hpp"
#include "idempotency/idempotency_service.hpp"
#include "reward/reward_service.hpp"

namespace reward {

// docs/API.md reward reads, reward admin (configs, ledger, events), and aliases.
void add_routes(http::Router& router, RewardService& service, idempotency::IdempotencyService& idempotency);

}  // namespace reward
