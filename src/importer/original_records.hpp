#pragma once
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "importer/mongo_export.hpp"

// The original service's documents as typed records, checked field by field.
// Pure: no database and no files, so every rule here is unit-testable.
namespace importer {

// Stops the import: names the file, the line and what is wrong there.
class ImportError : public std::runtime_error {
 public:
  ImportError(std::string file, std::size_t line, const std::string& reason);
  const std::string& file() const { return file_; }
  std::size_t line() const { return line_; }

 private:
  std::string file_;
  std::size_t line_;
};

struct UserRecord {
  std::size_t line = 0;
  std::string id;  // the ObjectId's hex, kept
  std::string name;
  std::string email;  // normalised as at signup when it passes today's check
  bool email_is_valid = true;
  std::string canonical_email;
  std::string password_hash;
  bool is_verified = false;
  bool is_admin = false;
  long long created_at = 0;
};

// One document of `referral`: a code its owner generated, used at most once.
struct CodeRecord {
  std::size_t line = 0;
  std::string id;  // UUID text
  std::string code;
  std::string owner_id;
  long long created_at = 0;
  std::optional<std::string> used_by;
  long long used_at = 0;
};

struct ConfigRecord {
  std::size_t line = 0;
  std::string id;
  std::string reward_type;
  long long reward_value = 0;
  std::string reward_unit;
  bool is_active = true;
  long long created_at = 0;
};

struct RewardRecord {
  std::size_t line = 0;
  std::string id;
  std::string user_id;
  std::string referral_id;
  std::string reward_type;
  long long reward_value = 0;
  std::string reward_unit;
  std::string status;
  long long created_at = 0;
};

struct RecordOptions {
  bool strip_plus_tags = false;  // as REFERRAL_STRIP_PLUS_TAGS, for canonical_email
  long long now = 0;             // creation time when a document carries none
};

// Each throws ImportError(file, line of the document, reason).
std::vector<UserRecord> users_from(const std::vector<Document>& documents, const std::string& file,
                                   const RecordOptions& options);
std::vector<CodeRecord> codes_from(const std::vector<Document>& documents, const std::string& file,
                                   const RecordOptions& options);
std::vector<ConfigRecord> configs_from(const std::vector<Document>& documents,
                                       const std::string& file, const RecordOptions& options);
std::vector<RewardRecord> rewards_from(const std::vector<Document>& documents,
                                       const std::string& file, const RecordOptions& options);

}  // namespace importer
