#include "reward/hold_timer.hpp"

#include "core/clock.hpp"
#include "core/log.hpp"

namespace reward {

namespace {
// Rewards credited per pass; a longer queue is worked off pass after pass
// without waiting for the interval.
constexpr int kBatch = 200;
}  // namespace

void HoldTimer::run_once() {
  try {
    int credited = 0;
    for (int batch = kBatch; batch == kBatch;) {
      batch = rewards_.credit_due(core::now_ms(), kBatch);
      credited += batch;
    }
    if (credited > 0)
      core::log::event("info", {{"msg", "hold timer credited rewards"}, {"rewards", credited}});
  } catch (const std::exception& error) {
    // The database may be away; the next pass tries again.
    core::log::warn(std::string("hold timer pass failed: ") + error.what());
  }
}

}  // namespace reward
