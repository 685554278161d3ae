#pragma once
#include <soci/session.h>
#include <soci/statement.h>

#include <memory>
#include <typeindex>

namespace db {

namespace detail {
std::shared_ptr<void>& cache_slot(soci::session& sql, std::type_index query);
}

// A prepared statement kept per pooled session, for the hottest queries:
// one-shot `sql << ...` prepares on every call (and costs PostgreSQL a second
// round trip). `Query` holds its bound variables and a soci::statement built
// from them in its constructor; the session's leaseholder is its only user.
template <class Query>
Query& cached(soci::session& sql) {
  auto& slot = detail::cache_slot(sql, std::type_index(typeid(Query)));
  if (!slot) slot = std::make_shared<Query>(sql);
  return *static_cast<Query*>(slot.get());
}

// Steps a cached single-row query past its row, once the row is copied out.
// On SQLite a statement left on its row keeps the connection's read snapshot
// open: later reads on that pooled session would miss other connections'
// commits and its next write would fail with SQLITE_BUSY_SNAPSHOT.
inline void finish_row(soci::statement& statement) { statement.fetch(); }

// Runs a cached query for at most one row: true when the row is there (its
// values are in the statement's `into` variables; the statement is already
// past it, which leaves them as they are).
inline bool fetch_single_row(soci::statement& statement) {
  statement.execute(true);
  if (!statement.got_data()) return false;
  finish_row(statement);
  return true;
}

// Runs a cached write statement; true when it changed a row.
inline bool changed_rows(soci::statement& statement) {
  statement.execute(true);
  return statement.get_affected_rows() > 0;
}

// Runs a cached query and calls `on_row` for each row, with the row in the
// statement's `into` variables; the statement ends past its last row.
template <class OnRow>
void for_each_row(soci::statement& statement, OnRow&& on_row) {
  statement.execute(false);
  while (statement.fetch()) on_row();
}

// Drops the statements of a session about to be closed.
void forget_cached(soci::session& sql);

}  // namespace db
