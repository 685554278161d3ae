#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "db/database.hpp"

namespace db {

// The statements of one migration file for one engine. Files hold plain SQL
// separated by ';' at line ends; a line `-- dialect: sqlite`,
// `-- dialect: postgresql` or `-- dialect: all` switches which engine the
// following statements are for.
std::vector<std::string> statements_for(std::string_view sql, Engine engine);

// Applies every embedded migration not yet in schema_migrations, each in its
// own transaction; returns how many it applied. Safe when several servers
// start at once: the version row is claimed first, so a second runner waits
// for the first and then skips.
int migrate(Database& database);

}  // namespace db
