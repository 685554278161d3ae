#pragma once
#include <cstdlib>
#include <filesystem>
#include <map>
#include <soci/soci.h>
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
  explicit TempDatabase(bool postgres = false, std::vector<std::string> tables = {"outbox", "outbox_counters"})
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

// Outbox rows per status ("queued", "sending", "sent", "failed"), counted.
inline std::map<std::string, long long> count_by_status(db::Database& database) {
  return database.read([](soci::session& sql) {
    std::map<std::string, long long> counts;
    std::string status;
    long long count = 0;
    soci::statement statement =
        (sql.prepare << "SELECT status, CAST(COUNT(*) AS BIGINT) FROM outbox GROUP BY status",
         soci::into(status), soci::into(count));
    statement.execute();
    while (statement.fetch()) counts[status] = count;
    return counts;
  });
}

inline bool postgres_available() {
  return std::getenv("REFERRALD_TEST_POSTGRES_URL") != nullptr;
}

}  // namespace mail_test
