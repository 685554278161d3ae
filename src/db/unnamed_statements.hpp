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

}  // namespace db
