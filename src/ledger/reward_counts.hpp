#pragma once
#include <soci/session.h>

#include <vector>

#include "ledger/ledger_service.hpp"
#include "ledger/ledger_store.hpp"

namespace ledger {

// How `entries` move reward_counters (migration 0019): `created` adds one
// PENDING, `credited` moves one from PENDING to CREDITED, `revoked` moves one
// to REVOKED from CREDITED when the reward was credited (in the batch or
// before it), else from PENDING. One delta per (unit, status) that changes,
// in key order.
std::vector<store::CounterDelta> reward_deltas(soci::session& sql,
                                               const std::vector<NewEntry>& entries);

}  // namespace ledger
