#pragma once
#include <optional>
#include <string>

#include "db/database.hpp"

namespace db {

// The `settings` table: values the server generates once and keeps, such as
// the JWT secret when none is configured.
std::optional<std::string> read_setting(Database& database, const std::string& name);
// Stores `value` unless the name is set already; returns the stored value
// (so concurrent first starts agree on one).
std::string keep_setting(Database& database, const std::string& name, const std::string& value);

}  // namespace db
