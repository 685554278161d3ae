#pragma once
#include <soci/soci.h>

#include <string>
#include <utility>
#include <vector>

namespace db {

// Whether the session talks to PostgreSQL; the stores choose their SQL by it.
inline bool is_postgresql(soci::session& sql) {
  return sql.get_backend_name() == "postgresql";
}

// Runs a write statement and returns how many rows it changed, e.g.
//   affected_rows(sql, "DELETE FROM t WHERE id = :id", soci::use(id));
template <class... Bindings>
long long affected_rows(soci::session& sql, const std::string& query, Bindings&&... bindings) {
  soci::statement statement = ((sql.prepare << query), ..., std::forward<Bindings>(bindings));
  statement.execute(true);
  return statement.get_affected_rows();
}

// Runs a query and converts each row, e.g.
//   select_all<Item>(sql, "SELECT ... WHERE a = :a", item_from, soci::use(a));
template <class T, class Convert, class... Bindings>
std::vector<T> select_all(soci::session& sql, const std::string& query, Convert convert, Bindings&&... bindings) {
  soci::rowset<soci::row> rows = ((sql.prepare << query), ..., std::forward<Bindings>(bindings));
  std::vector<T> out;
  for (const auto& row : rows) out.push_back(convert(row));
  return out;
}

}  // namespace db
