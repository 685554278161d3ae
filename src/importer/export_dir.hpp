#pragma once
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "importer/original_records.hpp"

// Reads a folder of `mongoexport` files (one per collection of the original).
namespace importer {

struct OriginalData {
  // The file each collection came from (.json or .jsonl), for notes.
  std::string users_file = "users.json";
  std::string codes_file = "referral.json";
  std::string configs_file = "reward_config.json";
  std::string rewards_file = "reward_ledger.json";
  std::vector<UserRecord> users;
  std::vector<CodeRecord> codes;  // the `referral` collection
  std::vector<ConfigRecord> configs;
  std::vector<RewardRecord> rewards;
  std::size_t otps = 0;      // read (so a malformed file still stops the import) and
  std::size_t sessions = 0;  // counted, never imported: users verify and log in again
};

// `users.json` or `users.jsonl`, ... for each collection; a missing file is
// an empty collection, but a folder with none of them is an error (likely a
// wrong path). Throws ImportError naming the file and line of the first
// problem; nothing is read from the database here.
OriginalData read_export_dir(const std::filesystem::path& dir, const RecordOptions& options);

}  // namespace importer
