#include <gtest/gtest.h>
#include <soci/soci.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "mail_test_support.hpp"

namespace {

// The temporary files this process has open: SQLite names its own
// "etilqs_..." and deletes them as soon as they are open.
int open_sqlite_temp_files() {
  int found = 0;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code error;
    const auto target = std::filesystem::read_symlink(fd.path(), error);
    if (!error && target.filename().string().rfind("etilqs_", 0) == 0) ++found;
  }
  return found;
}

// Every SQLite write runs inside a SAVEPOINT of the group commit's
// transaction, so SQLite journals each page it changes for a possible
// rollback of that write alone. Past 64 KiB (its default) that journal went
// to a temporary file: an apply changes about 20 pages, so most of them were
// written to disk once more (pwrite, ~50 us of CPU per apply under perf;
// docs/PERFORMANCE.md, Apply's CPU, profiled).
TEST(StatementJournal, AWriteOfAFewHundredPagesKeepsItsJournalInMemory) {
  mail_test::TempDatabase database(false, {});
  auto& db = database.get();
  db.write([](soci::session& sql) {
    sql << "CREATE TABLE journal_test (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)";
    sql << "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) "
           "INSERT INTO journal_test (id, payload) SELECT i, printf('%.400c', 'x') FROM n";
  });
  int during = -1;
  db.write([&](soci::session& sql) {
    // About 200 pages of rows written before this transaction: 800 KiB of journal.
    sql << "UPDATE journal_test SET payload = printf('%.400c', 'y')";
    during = open_sqlite_temp_files();
  });
  EXPECT_EQ(during, 0);
}

}  // namespace
