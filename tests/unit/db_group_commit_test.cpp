#include <gtest/gtest.h>
#include <soci/soci.h>

#include <stdexcept>
#include <string>

#include "mail_test_support.hpp"

namespace {

std::string error_of_write(db::Database& database, const std::string& statement) {
  try {
    database.write([&](soci::session& sql) { sql << statement; });
  } catch (const std::exception& error) {
    return error.what();
  }
  return "";
}

// Some SQLite errors (a full disk, an I/O error, no memory, RAISE(ROLLBACK)
// in a trigger) roll the whole transaction back, savepoints included. The
// write's own error is the one to report: a bench run's `migrate` once
// failed with only "no such savepoint: job", the rollback of a savepoint
// SQLite had already dropped, and the cause was lost.
TEST(GroupCommit, AWriteWhoseErrorEndedTheTransactionReportsThatError) {
  mail_test::TempDatabase database(false, {});
  auto& db = database.get();
  db.write([](soci::session& sql) {
    sql << "CREATE TABLE guarded (id INTEGER PRIMARY KEY)";
    sql << "CREATE TRIGGER guarded_refuses BEFORE INSERT ON guarded "
           "BEGIN SELECT RAISE(ROLLBACK, 'the trigger refused it'); END";
  });
  const auto error = error_of_write(db, "INSERT INTO guarded (id) VALUES (1)");
  EXPECT_NE(error.find("INSERT INTO guarded"), std::string::npos) << error;
  EXPECT_EQ(error.find("no such savepoint"), std::string::npos) << error;
  // The writer goes on with the next write.
  EXPECT_EQ(error_of_write(db, "CREATE TABLE after_the_failure (id INTEGER)"), "");
}

}  // namespace
