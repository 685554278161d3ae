#include "ledger/reward_counts.hpp"

#include <map>
#include <string>
#include <unordered_map>
#include <utility>

#include "ledger/ledger_store.hpp"
#include "ledger/reward_status.hpp"

namespace ledger {

namespace {

// Statuses are status::k*; the bare kCredited and kRevoked are ledger_entry.hpp's entry kinds.
namespace status = reward_status;

// The status a revoke moves the reward from: what an earlier entry of this
// batch left, else what the entries already in the ledger left.
const char* status_before_revoke(soci::session& sql,
                                 const std::unordered_map<std::string, const char*>& in_batch,
                                 const std::string& reward_id) {
  const auto seen = in_batch.find(reward_id);
  if (seen != in_batch.end()) return seen->second;
  return store::was_credited(sql, reward_id) ? status::kCredited : status::kPending;
}

}  // namespace

std::vector<store::CounterDelta> reward_deltas(soci::session& sql,
                                               const std::vector<NewEntry>& entries) {
  std::map<std::pair<std::string, std::string>, store::RewardCount> deltas;  // (unit, status)
  std::unordered_map<std::string, const char*> status_in_batch;              // reward id -> status
  for (const auto& entry : entries) {
    const char* from = nullptr;  // none: the reward is new
    const char* to = status::kPending;
    if (entry.kind == kCredited) {
      from = status::kPending;
      to = status::kCredited;
    } else if (entry.kind == kRevoked) {
      from = status_before_revoke(sql, status_in_batch, entry.reward_id);
      to = status::kRevoked;
    }
    if (from) deltas[{entry.unit, from}].add(-1, entry.amount);
    deltas[{entry.unit, to}].add(1, entry.amount);
    status_in_batch[entry.reward_id] = to;
  }
  std::vector<store::CounterDelta> changed;
  // A reward created and credited in one batch leaves PENDING as it was.
  for (const auto& [key, delta] : deltas) {
    if (!delta.empty()) changed.push_back({key.first, key.second, delta});
  }
  return changed;
}

}  // namespace ledger
