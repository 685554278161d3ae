#pragma once
#include <soci/session.h>

#include <string>
#include <vector>

#include "db/database.hpp"

namespace seed {

// Drops the secondary indexes of `tables` and returns the statements that
// recreate them. Building an index once from sorted data is several times
// cheaper than updating it row by row; the indexes behind PRIMARY KEY and
// UNIQUE constraints stay, so the load still checks what must be unique.
std::vector<std::string> drop_secondary_indexes(soci::session& sql, db::Engine engine,
                                                const std::vector<std::string>& tables);
void create_indexes(soci::session& sql, const std::vector<std::string>& statements);

}  // namespace seed
