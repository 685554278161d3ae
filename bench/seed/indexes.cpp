#include "indexes.hpp"

#include <soci/soci.h>

namespace seed {

namespace {

// Indexes a migration made with CREATE INDEX: SQLite keeps their SQL (the
// automatic ones behind constraints have none); PostgreSQL reports which
// indexes belong to a constraint.
constexpr const char* kSqliteIndexes =
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name = :table_name";
constexpr const char* kPostgresIndexes =
    "SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_index x "
    "JOIN pg_class c ON c.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid "
    "WHERE t.relname = :table_name AND pg_table_is_visible(t.oid) "
    "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid)";

}  // namespace

std::vector<std::string> drop_secondary_indexes(soci::session& sql, db::Engine engine,
                                                const std::vector<std::string>& tables) {
  std::vector<std::string> names, statements;
  for (const auto& table : tables) {
    std::string name, definition;
    soci::statement query = (sql.prepare << (engine == db::Engine::sqlite ? kSqliteIndexes : kPostgresIndexes),
                             soci::use(table), soci::into(name), soci::into(definition));
    query.execute();
    while (query.fetch()) {
      names.push_back(name);
      statements.push_back(definition);
    }
  }
  for (const auto& name : names) sql << "DROP INDEX " + name;
  return statements;
}

void create_indexes(soci::session& sql, const std::vector<std::string>& statements) {
  for (const auto& statement : statements) sql << statement;
}

}  // namespace seed
