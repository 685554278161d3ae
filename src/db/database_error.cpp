#include "db/database_error.hpp"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

namespace db {

namespace {

// Enough of the SQL to find the statement in the source.
constexpr std::size_t kStatementChars = 160;

std::string engine_code(const soci::soci_error& error) {
  if (const auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&error))
    return "SQLSTATE " + pg->sqlstate();
  if (const auto* lite = dynamic_cast<const soci::sqlite3_soci_error*>(&error)) {
    return "SQLite " + std::to_string(lite->result());
  }
  // SOCI's own failures (a NULL without indicator, a bad conversion): its
  // message without the context that lists the values.
  return "SOCI " + error.get_error_message();
}

}  // namespace

DatabaseError::DatabaseError(Failure failure, const std::string& code, const std::string& statement)
    : std::runtime_error("database error " + code + " in: " + statement),
      failure_(failure),
      code_(code) {}

std::exception_ptr current_without_bound_values(soci::session& sql) {
  try {
    throw;
  } catch (const soci::soci_error& error) {
    return std::make_exception_ptr(DatabaseError(classify(error), engine_code(error),
                                                 sql.get_last_query().substr(0, kStatementChars)));
  } catch (...) {
    return std::current_exception();
  }
}

}  // namespace db
