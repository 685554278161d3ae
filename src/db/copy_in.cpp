#include "db/copy_in.hpp"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>

#include "db/unnamed_statements.hpp"

namespace db {

namespace {

PGconn* connection_of(soci::session& sql) {
  return static_cast<soci::postgresql_session_backend*>(unwrapped(sql.get_backend()))->conn_;
}

// Reads the results left on the connection, so that it is ready for the
// next command (libpq requires it after COPY, failed or not).
void drain(PGconn* conn) {
  while (PGresult* left = PQgetResult(conn)) PQclear(left);
}

[[noreturn]] void fail(PGconn* conn, PGresult* result) {
  const char* state = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string sqlstate = state && PQstatus(conn) == CONNECTION_OK ? state : "08006";
  std::string message = PQerrorMessage(conn);
  if (result) PQclear(result);
  drain(conn);
  throw soci::postgresql_soci_error(message, sqlstate.c_str());
}

}  // namespace

void copy_in(soci::session& sql, const std::string& copy_statement, std::string_view rows) {
  PGconn* conn = connection_of(sql);
  PGresult* started = PQexec(conn, copy_statement.c_str());
  if (PQresultStatus(started) != PGRES_COPY_IN) fail(conn, started);
  PQclear(started);
  // PQputCopyData takes an int length: a large batch goes in pieces.
  constexpr std::size_t kPiece = 1 << 20;
  for (std::size_t at = 0; at < rows.size(); at += kPiece) {
    const auto piece = rows.substr(at, kPiece);
    if (PQputCopyData(conn, piece.data(), static_cast<int>(piece.size())) != 1) fail(conn, nullptr);
  }
  if (PQputCopyEnd(conn, nullptr) != 1) fail(conn, nullptr);
  PGresult* done = PQgetResult(conn);
  if (PQresultStatus(done) != PGRES_COMMAND_OK) fail(conn, done);
  PQclear(done);
  drain(conn);
}

void append_copy_field(std::string& out, std::string_view field) {
  for (const char c : field) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
}

}  // namespace db
