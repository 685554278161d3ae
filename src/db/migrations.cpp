#include "db/migrations.hpp"

#include <algorithm>
#include <soci/soci.h>

#include "core/clock.hpp"
#include "core/embedded.hpp"
#include "core/log.hpp"

namespace db {

namespace {

struct Migration {
  long long version;
  std::string name;
  std::string_view sql;
};

std::vector<Migration> embedded_migrations() {
  std::vector<Migration> out;
  for (const auto& file : core::embedded_files()) {
    if (!file.name.starts_with("migrations/")) continue;
    const auto name = std::string(file.name.substr(11));
    out.push_back({std::stoll(name.substr(0, name.find('_'))), name, file.content});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  return out;
}

// Several servers may start, and so migrate, at once on one PostgreSQL
// database, and CREATE TABLE IF NOT EXISTS is not safe against itself there:
// the loser fails with 23505, 42P07 or 42710 depending on timing. A
// transaction-scoped advisory lock makes the second creator wait, then find
// the table. (SQLite has one writer at a time anyway.)
constexpr long long kLedgerLockKey = 0x7265666572726c64;  // "referrld"

void create_ledger_table(Database& database) {
  const bool postgresql = database.engine() == Engine::postgresql;
  database.write([postgresql](soci::session& sql) {
    if (postgresql) {
      int locked = 0;
      sql << "SELECT 1 FROM (SELECT pg_advisory_xact_lock(" + std::to_string(kLedgerLockKey) + ")) AS l",
          soci::into(locked);
    }
    sql << "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, "
           "name TEXT NOT NULL, applied_at BIGINT NOT NULL)";
  });
}

bool apply(Database& database, const Migration& migration) {
  return database.write([&](soci::session& sql) {
    long long claimed = 0;
    soci::indicator indicator = soci::i_null;
    const long long now = core::now_ms();
    sql << "INSERT INTO schema_migrations (version, name, applied_at) VALUES (:version, :name, :now) "
           "ON CONFLICT (version) DO NOTHING RETURNING version",
        soci::use(migration.version), soci::use(migration.name), soci::use(now),
        soci::into(claimed, indicator);
    if (!sql.got_data() || indicator != soci::i_ok) return false;
    for (const auto& statement : statements_for(migration.sql, database.engine())) sql << statement;
    return true;
  });
}

}  // namespace

std::vector<std::string> statements_for(std::string_view sql, Engine engine) {
  std::vector<std::string> statements;
  std::string current;
  bool active = true;
  while (!sql.empty()) {
    const auto newline = sql.find('\n');
    auto line = sql.substr(0, newline);
    sql.remove_prefix(newline == std::string_view::npos ? sql.size() : newline + 1);
    if (line.starts_with("-- dialect:")) {
      const auto dialect = line.substr(11);
      active = dialect.find("all") != std::string_view::npos ||
               dialect.find(engine == Engine::sqlite ? "sqlite" : "postgresql") != std::string_view::npos;
      continue;
    }
    if (!active || line.starts_with("--")) continue;
    current.append(line).push_back('\n');
    auto end = line.find_last_not_of(" \t\r");
    if (end != std::string_view::npos && line[end] == ';') {
      current.erase(current.find_last_of(';'));
      if (current.find_first_not_of(" \t\r\n") != std::string::npos) statements.push_back(current);
      current.clear();
    }
  }
  if (current.find_first_not_of(" \t\r\n") != std::string::npos) statements.push_back(current);
  return statements;
}

int migrate(Database& database) {
  create_ledger_table(database);
  int applied = 0;
  for (const auto& migration : embedded_migrations()) {
    if (apply(database, migration)) {
      core::log::info("applied migration " + migration.name);
      ++applied;
    }
  }
  return applied;
}

}  // namespace db
