#pragma once
#include <cstddef>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "db/database.hpp"
#include "importer/original_records.hpp"  // ImportError

// `referrald import-mongo DIR`: moves the original service's data in.
namespace importer {

struct CollectionCounts {
  std::size_t documents = 0;
  std::size_t imported = 0;  // documents that added rows
  std::size_t skipped = 0;   // imported before, or refused (see notes)
};

struct ImportReport {
  CollectionCounts users, referral, reward_config, reward_ledger;
  std::size_t codes_created = 0;      // rows made from `referral` documents: a code per
  std::size_t aliases_created = 0;    // owner (its oldest), an alias per further code,
  std::size_t referrals_created = 0;  // a referral per used code
  // Per reward type, the imported config that is active now: the oldest
  // active one of the export, which the original paid with.
  std::vector<std::string> active_configs;
  std::size_t otps = 0;  // read and dropped
  std::size_t sessions = 0;
  // Each refused or altered document, "file:line: what happened". Documents
  // imported by an earlier run are skipped silently.
  std::vector<std::string> notes;
};

class ImporterService {
 public:
  ImporterService(db::Database& database, bool strip_plus_tags)
      : database_(database), strip_plus_tags_(strip_plus_tags) {}

  // Reads and checks every file first, then writes in one transaction: a
  // malformed document throws ImportError (file, line, reason) and nothing
  // is written. Ids already in the database are skipped, so a second run
  // adds nothing.
  ImportReport import_dir(const std::filesystem::path& dir);

 private:
  db::Database& database_;
  bool strip_plus_tags_;
};

// The per-collection summary and up to `max_notes` notes, for the CLI.
void write_report(std::ostream& out, const ImportReport& report, std::size_t max_notes);

}  // namespace importer
