#pragma once
#include <soci/session.h>

#include <optional>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "ledger/ledger_entry.hpp"
#include "ledger/ledger_store.hpp"

namespace ledger {

struct NewEntry {
  std::string kind;
  std::string reward_id;
  std::string user_id;
  long long amount = 0;
  std::string unit;
  std::string actor;
  std::string reason;
  long long at = 0;
};

// Appends `entries` in order to the ledger in the caller's open write
// transaction, so they commit or roll back with the change they record
// (with a nested write or SQLite job that rolls back, they go too). They are
// kept until the transaction is about to commit and written then, with the
// transaction's other entries, as its last writes (db::before_commit): the
// head's row lock, which appends hold one at a time, is taken there and held
// only until the COMMIT, and a caller may append at any point and more than
// once. Outside a write transaction they are written at once.
void append(soci::session& sql, const std::vector<NewEntry>& entries);

// The export's query parameters as given (docs/API.md, "Payout export").
struct ExportFilter {
  std::optional<std::string> status;
  std::optional<std::string> unit;
  std::optional<std::string> from;  // YYYY-MM-DD, UTC, inclusive
  std::optional<std::string> to;    // YYYY-MM-DD, UTC, inclusive
};

struct Verdict {
  bool ok = true;
  long long seq = 0;    // the head when ok, else the first broken seq
  std::string hash;     // the head's hash when ok
  std::string problem;  // what broke, when not ok
};

// Reads the ledger; the projections it checks belong to the reward domain.
class LedgerService {
 public:
  explicit LedgerService(db::Database& database) : database_(database) {}

  store::Head head();
  std::vector<Entry> entries_after(long long after, int limit);
  // Re-walks the chain up to the head read at the start (entries appended
  // meanwhile are left out), then the projections.
  Verdict verify();

  // Checks the filter (400 validation_error naming the field) and returns
  // the query of the export's first page.
  store::ExportQuery export_query(const ExportFilter& filter) const;
  // One page; the next starts after its last row.
  std::vector<store::ExportRow> export_page(const store::ExportQuery& query);

 private:
  db::Database& database_;
};

// Hashes the rows migration 0015 staged into the chain, in batches of one
// transaction each (the staged rows leave in the same transaction), so a
// crash resumes where it stopped and a second run finds nothing to do.
// Returns the number of entries written.
long long complete_backfill(db::Database& database);

}  // namespace ledger
