#pragma once
#include <soci/soci.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace db {

// Whether the session talks to PostgreSQL; the stores choose their SQL by it.
inline bool is_postgresql(soci::session& sql) {
  return sql.get_backend_name() == "postgresql";
}

// One of the code's own names (a status, a kind: a constant with no quote in
// it) as an SQL string literal, so the SQL and the C++ spell it in one place.
// Written into the text rather than bound: PostgreSQL can use a partial index
// (`WHERE status = 'pending'`) for a literal, not for a parameter.
inline std::string literal(std::string_view name) {
  return "'" + std::string(name) + "'";
}

// How many rows of a group have `column` = `name`: SUM(CASE WHEN ... THEN 1
// ELSE 0 END).
inline std::string count_of(std::string_view column, std::string_view name) {
  return "SUM(CASE WHEN " + std::string(column) + " = " + literal(name) + " THEN 1 ELSE 0 END)";
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
