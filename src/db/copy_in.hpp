#pragma once
#include <soci/session.h>

#include <string>
#include <string_view>

// COPY ... FROM STDIN on PostgreSQL, through libpq (SOCI has no API for it):
// rows reach the table without a statement's parameters to parse or an
// executor's projection per row.
namespace db {

// Runs `copy_statement` (COPY <table> (<columns>) FROM STDIN, text format)
// with `rows` as its data, in the session's transaction. A failure throws
// soci::postgresql_soci_error with PostgreSQL's SQLSTATE (08006 when the
// connection broke), so db::classify() and the retries treat it as they
// treat any statement's.
void copy_in(soci::session& sql, const std::string& copy_statement, std::string_view rows);

// Appends `field` to `out` escaped for COPY's text format (backslash, tab,
// newline and carriage return; every other byte goes as it is).
void append_copy_field(std::string& out, std::string_view field);

}  // namespace db
