#pragma once
#include <soci/session.h>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ledger/ledger_entry.hpp"
#include "reward/reward_store.hpp"

// SQL for the ledger: entries, the head row, the staged backfill, and the
// checks `ledger verify` runs against the projections.
namespace ledger::store {

struct Head {
  long long seq = 0;
  std::string hash;
  long long at = 0;
};

// The head, locked until the transaction ends (PostgreSQL: FOR UPDATE; on
// SQLite the one writer already excludes every other append).
Head lock_head(soci::session& sql);
Head read_head(soci::session& sql);
// Inserts `entries`, chained in order after the locked head, and moves the
// head to the last of them.
void write_entries(soci::session& sql, const std::vector<Entry>& entries);

// Entries with seq > after, in order, at most `limit`.
std::vector<Entry> entries_after(soci::session& sql, long long after, int limit);
std::vector<Entry> entries_of_reward(soci::session& sql, const std::string& reward_id);
// The user is the beneficiary of an entry, or made a referral that carries
// rewards: deleting the account would cascade into ledger history.
bool holds_value(soci::session& sql, const std::string& user_id);

// True when the reward has a `credited` entry: a revoke then moves it from
// CREDITED, else from PENDING.
bool was_credited(soci::session& sql, const std::string& reward_id);

// A change of the rewards of one (unit, status) in reward_counters
// (migration 0019): how many, and their value as db::split_value splits it.
struct RewardCount {
  long long rewards = 0;
  long long value_high = 0;
  long long value_low = 0;
  // `rewards` more rewards (fewer when negative) of `value` each.
  void add(long long rewards, long long value);
  bool empty() const { return rewards == 0 && value_high == 0 && value_low == 0; }
};
// Adds `delta` to the shard of (unit, status) that `shard_key` picks
// (db::counters::shard_of).
void add_to_reward_counts(soci::session& sql, const std::string& unit, const std::string& status,
                          std::string_view shard_key, const RewardCount& delta);
// A batch's change to one (unit, status) of reward_counters.
struct CounterDelta {
  std::string unit;
  std::string status;
  RewardCount delta;
};
// Adds `deltas` to reward_counters in the shard `shard_key` picks, then
// lock_head. PostgreSQL: one statement, the counters first.
Head count_and_lock_head(soci::session& sql, const std::vector<CounterDelta>& deltas,
                         std::string_view shard_key);
// True on PostgreSQL, where count_and_append_one can run.
bool appends_one_in_a_statement(soci::session& sql);
// count_and_lock_head, then write_entries of `entry` chained after the head,
// in one statement: PostgreSQL computes its hash (canonical_bytes' layout in
// SQL; its seq, prev_hash and hash are not read) and the head is held from
// this statement to the COMMIT only.
void count_and_append_one(soci::session& sql, const std::vector<CounterDelta>& deltas,
                          std::string_view shard_key, const Entry& entry);

// Rows staged by migration 0015, oldest first; `seq` holds their order.
std::vector<Entry> staged_rows(soci::session& sql, int limit);
void drop_staged_rows(soci::session& sql, long long up_to_order);

// One row of the payout export: a reward with its beneficiary's address.
struct ExportRow {
  reward::store::Reward reward;
  std::string email;
  std::string name;
};

struct ExportQuery {
  std::optional<std::string> status;
  std::optional<std::string> unit;
  long long from_ms = 0;     // created_at >= from_ms
  long long to_ms = 0;       // created_at < to_ms
  long long after_time = 0;  // keyset: (created_at, id) > (after_time, after_id)
  std::string after_id;
  int limit = 0;
};
// Rewards in (created_at, id) order: one index range, a page at a time.
std::vector<ExportRow> export_page(soci::session& sql, const ExportQuery& query);

// A place where the projections disagree with the entries: the seq to
// report (the reward's last entry; 0 when it has none) and what is wrong.
struct Mismatch {
  long long seq = 0;
  std::string problem;
};
// Rewards whose entries are not one of created [credited] [revoked] in that
// order, whose status is not what the entries say, or whose beneficiary,
// amount or unit differ from an entry's.
std::optional<Mismatch> first_reward_mismatch(soci::session& sql);
// Referrers whose counters differ from their referrals' statuses.
std::optional<std::string> first_stats_mismatch(soci::session& sql);
// A (unit, status) whose reward_counters differ from its rewards.
std::optional<std::string> first_reward_count_mismatch(soci::session& sql);

}  // namespace ledger::store
