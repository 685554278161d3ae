#pragma once
#include <soci/session.h>

#include <exception>
#include <stdexcept>
#include <string>

#include "db/failure.hpp"

namespace db {

// A SOCI error as it leaves the Database: SOCI's own message lists every
// bound value (password hashes, emails, codes), and the 500 handler logs
// what() (issue 12). This keeps only the engine's error code (SQLSTATE on
// PostgreSQL, the extended result code on SQLite) and the SQL text with its
// placeholders: never a value.
class DatabaseError : public std::runtime_error {
 public:
  DatabaseError(Failure failure, const std::string& code, const std::string& statement);
  Failure failure() const { return failure_; }
  const std::string& code() const { return code_; }  // "SQLSTATE 42703", "SQLite 2067"

 private:
  Failure failure_;
  std::string code_;
};

// The exception being handled, as a DatabaseError when it came from SOCI,
// else unchanged; call it inside a catch block. `sql` is the session it
// failed on; the statement named is the one last prepared there.
std::exception_ptr current_without_bound_values(soci::session& sql);

}  // namespace db
