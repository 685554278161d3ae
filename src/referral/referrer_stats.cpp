#include "referral/referrer_stats.hpp"

#include <atomic>

#include "db/database.hpp"
#include "referral/referral_status.hpp"

namespace referral {

namespace {

std::atomic<std::uint64_t> committed_changes{0};

void count_committed_change() noexcept {
  committed_changes.fetch_add(1);
}

}  // namespace

void add_to_stats(soci::session& sql, const std::string& referrer_id,
                  const store::StatsDelta& delta) {
  store::add_to_stats(sql, referrer_id, delta);
  db::after_commit(count_committed_change);
}

store::StatsDelta status_delta(std::string_view status, long long amount) {
  store::StatsDelta delta;
  if (status == referral_status::kSuccess)
    delta.successful = amount;
  else if (status == referral_status::kRejected)
    delta.rejected = amount;
  else
    delta.pending = amount;
  return delta;
}

void insert_pending_referral(soci::session& sql, const store::Referral& referral) {
  store::insert_pending_referral(sql, referral);
  db::after_commit(count_committed_change);
}

std::uint64_t stats_generation() {
  return committed_changes.load();
}

}  // namespace referral
