#include "db/settings_store.hpp"

#include <soci/soci.h>

#include "core/clock.hpp"

namespace db {

std::optional<std::string> read_setting(Database& database, const std::string& name) {
  return database.read([&](soci::session& sql) -> std::optional<std::string> {
    std::string value;
    sql << "SELECT value FROM settings WHERE name = :name", soci::use(name), soci::into(value);
    if (!sql.got_data()) return std::nullopt;
    return value;
  });
}

std::string keep_setting(Database& database, const std::string& name, const std::string& value) {
  database.write([&](soci::session& sql) {
    const long long now = core::now_ms();
    sql << "INSERT INTO settings (name, value, updated_at) VALUES (:name, :value, :now) "
           "ON CONFLICT (name) DO NOTHING",
        soci::use(name), soci::use(value), soci::use(now);
  });
  return read_setting(database, name).value();
}

}  // namespace db
