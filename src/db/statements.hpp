#pragma once
#include <soci/soci.h>

#include <string>
#include <utility>

namespace db {

// Runs a write statement and returns how many rows it changed, e.g.
//   affected_rows(sql, "DELETE FROM t WHERE id = :id", soci::use(id));
template <class... Bindings>
long long affected_rows(soci::session& sql, const std::string& query, Bindings&&... bindings) {
  soci::statement statement = ((sql.prepare << query), ..., std::forward<Bindings>(bindings));
  statement.execute(true);
  return statement.get_affected_rows();
}

}  // namespace db
