#pragma once
#include <soci/backend-loader.h>

namespace db {

// SOCI's PostgreSQL backend, except that a prepared statement is never a
// named server-side statement: every execution sends its text with its
// parameters (PQexecParams, the unnamed statement), in the same one round
// trip. Named statements live on one server connection; through PgBouncer in
// transaction mode the next transaction may run on another one ("prepared
// statement st_3 does not exist", or worse, another client's st_3). The cost
// is the server parsing and planning each statement again
// (DATABASE_PREPARED_STATEMENTS=false, docs/OPERATIONS.md).
const soci::backend_factory& postgresql_unnamed_statements();

// The session's own backend: the one postgresql_unnamed_statements() wraps,
// or `backend` itself when it is no such wrapper (for libpq calls that SOCI
// has no API for, e.g. db::copy_in).
soci::details::session_backend* unwrapped(soci::details::session_backend* backend);

}  // namespace db
