// db::classify on real SQLite errors: a unique or primary-key violation is
// recognised by its extended result code, a CHECK violation is not one.
#include <gtest/gtest.h>

#include <string>

#include "db/failure.hpp"
#include "mail_test_support.hpp"

namespace {

db::Failure failure_of(db::Database& database, const std::string& statement) {
  try {
    database.write([&](soci::session& sql) { sql << statement; });
  } catch (const std::exception& error) {
    return db::classify(error);
  }
  ADD_FAILURE() << "no error from: " << statement;
  return db::Failure::other;
}

class SqliteClassify : public ::testing::Test {
 protected:
  void SetUp() override {
    database_.get().write([](soci::session& sql) {
      sql << "CREATE TABLE classify_probe (id BIGINT PRIMARY KEY, name TEXT UNIQUE, n BIGINT CHECK "
             "(n >= 0))";
      sql << "INSERT INTO classify_probe (id, name, n) VALUES (1, 'taken', 0)";
    });
  }
  mail_test::TempDatabase database_;
};

TEST_F(SqliteClassify, UniqueColumnViolation) {
  EXPECT_EQ(failure_of(database_.get(),
                       "INSERT INTO classify_probe (id, name, n) VALUES (2, 'taken', 0)"),
            db::Failure::unique_violation);
}

TEST_F(SqliteClassify, PrimaryKeyViolation) {
  EXPECT_EQ(
      failure_of(database_.get(), "INSERT INTO classify_probe (id, name, n) VALUES (1, 'free', 0)"),
      db::Failure::unique_violation);
}

TEST_F(SqliteClassify, CheckViolationIsNotUnique) {
  EXPECT_EQ(failure_of(database_.get(),
                       "INSERT INTO classify_probe (id, name, n) VALUES (3, 'other', -1)"),
            db::Failure::other);
}

}  // namespace
