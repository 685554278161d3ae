#pragma once
#include <soci/session.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "referral/referral_store.hpp"

// The per-referrer counters (referrer_stats) as other domains may use them.
namespace referral {

// Moves the referrer's counters (store::add_to_stats) in the caller's
// transaction and, once it commits, the generation below. Every change of a
// referral's status, in any domain, goes through here.
void add_to_stats(soci::session& sql, const std::string& referrer_id,
                  const store::StatsDelta& delta);

// The counters' change when `amount` referrals enter `status` (a negative
// amount: leave it). `total` stays 0: a move between statuses keeps it.
store::StatsDelta status_delta(std::string_view status, long long amount);

// Inserts a PENDING referral with the counts add_to_stats({1, 0, 1, 0})
// makes, as one statement on PostgreSQL (store::insert_pending_referral).
void insert_pending_referral(soci::session& sql, const store::Referral& referral);

// How many transactions of this process that moved referrer_stats have
// committed (docs/ARCHITECTURE.md, "The leaderboard cache"). It moves after
// the COMMIT and before the writer's caller gets its answer, so a read that
// starts after taking generation g sees every such change counted in g.
// Other processes' changes (another instance, the import CLI) do not move it.
std::uint64_t stats_generation();

}  // namespace referral
