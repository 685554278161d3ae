#pragma once
#include <soci/session.h>

#include <vector>

#include "ledger/ledger_service.hpp"

namespace ledger {

// Moves reward_counters (migration 0019) by what `entries` do to their
// rewards: `created` adds one PENDING, `credited` moves one from PENDING to
// CREDITED, `revoked` moves one to REVOKED from CREDITED when the reward was
// credited (in the batch or before it), else from PENDING. Each (unit,
// status) is changed once per call, in key order, in the shard of the first
// entry's reward.
void count_rewards(soci::session& sql, const std::vector<NewEntry>& entries);

}  // namespace ledger
