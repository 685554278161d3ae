#pragma once
#include <soci/session.h>

#include <functional>
#include <optional>
#include <string>
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
void insert_entry(soci::session& sql, const Entry& entry);
void set_head(soci::session& sql, const Head& head);

// Entries with seq > after, in order, at most `limit`.
std::vector<Entry> entries_after(soci::session& sql, long long after, int limit);
std::vector<Entry> entries_of_reward(soci::session& sql, const std::string& reward_id);
// The user is the beneficiary of an entry, or made a referral that carries
// rewards: deleting the account would cascade into ledger history.
bool holds_value(soci::session& sql, const std::string& user_id);

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

}  // namespace ledger::store
