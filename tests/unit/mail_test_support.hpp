#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/random.hpp"
#include "db/database.hpp"
#include "db/migrations.hpp"

namespace mail_test {

// A migrated database for one test: a fresh SQLite file by default, or the
// PostgreSQL at REFERRALD_TEST_POSTGRES_URL (then `postgres` is true) to
// exercise the other dialect. The tables the test uses are emptied first (a
// PostgreSQL database is shared by the tests of one run).
class TempDatabase {
 public:
  explicit TempDatabase(bool postgres = false, std::vector<std::string> tables = {"outbox"})
      : path_(std::filesystem::temp_directory_path() /
              ("referrald-mail-" + core::new_id() + ".db")),
        database_({postgres ? std::string(std::getenv("REFERRALD_TEST_POSTGRES_URL"))
                            : "sqlite://" + path_.string(),
                   4}) {
    db::migrate(database_);
    database_.write([&tables](soci::session& sql) {
      for (const auto& table : tables) sql << "DELETE FROM " + table;
    });
  }
  ~TempDatabase() {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::error_code ignored;
      std::filesystem::remove(path_.string() + suffix, ignored);
    }
  }
  TempDatabase(const TempDatabase&) = delete;
  TempDatabase& operator=(const TempDatabase&) = delete;

  db::Database& get() { return database_; }

 private:
  std::filesystem::path path_;
  db::Database database_;
};

inline bool postgres_available() {
  return std::getenv("REFERRALD_TEST_POSTGRES_URL") != nullptr;
}

}  // namespace mail_test
