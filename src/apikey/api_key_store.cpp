#include "apikey/api_key_store.hpp"

#include <soci/soci.h>

#include "db/statement_cache.hpp"

namespace apikey::store {

using soci::into;
using soci::use;

namespace {

constexpr const char* kKeyColumns =
    "SELECT id, name, prefix, key_hash, scope_bits, created_by, created_at, last_used_at, "
    "revoked_at "
    "FROM api_keys ";

std::optional<long long> nullable(const soci::row& row, std::size_t column) {
  if (row.get_indicator(column) == soci::i_null) return std::nullopt;
  return row.get<long long>(column);
}

ApiKey key_from(const soci::row& row) {
  return {row.get<std::string>(0), row.get<std::string>(1), row.get<std::string>(2),
          row.get<std::string>(3), row.get<int>(4),         row.get<std::string>(5),
          row.get<long long>(6),   nullable(row, 7),        nullable(row, 8)};
}

// Where a key row lands in the cached lookup; the nullable times need staging.
struct KeyRow {
  ApiKey key;
  long long last_used_at = 0;
  long long revoked_at = 0;
  soci::indicator last_used_indicator = soci::i_null;
  soci::indicator revoked_indicator = soci::i_null;

  ApiKey take() const {
    ApiKey out = key;
    if (last_used_indicator == soci::i_ok) out.last_used_at = last_used_at;
    if (revoked_indicator == soci::i_ok) out.revoked_at = revoked_at;
    return out;
  }
};

struct HashLookup {
  explicit HashLookup(soci::session& sql)
      : statement((sql.prepare << std::string(kKeyColumns) + "WHERE key_hash = :key_hash",
                   use(key_hash), into(row.key.id), into(row.key.name), into(row.key.prefix),
                   into(row.key.key_hash), into(row.key.scope_bits), into(row.key.created_by),
                   into(row.key.created_at), into(row.last_used_at, row.last_used_indicator),
                   into(row.revoked_at, row.revoked_indicator))) {}

  std::string key_hash;
  KeyRow row;
  soci::statement statement;
};

}  // namespace

void insert_key(soci::session& sql, const ApiKey& key) {
  sql << "INSERT INTO api_keys (id, name, prefix, key_hash, scope_bits, created_by, created_at) "
         "VALUES (:id, :name, :prefix, :key_hash, :scope_bits, :created_by, :created_at)",
      use(key.id), use(key.name), use(key.prefix), use(key.key_hash), use(key.scope_bits),
      use(key.created_by), use(key.created_at);
}

std::vector<ApiKey> list_keys(soci::session& sql, const std::optional<core::Cursor>& after,
                              int limit) {
  const std::string where = after ? "WHERE (created_at, id) < (:after_time, :after_id) " : "";
  auto query = (sql.prepare << std::string(kKeyColumns) + where +
                                   "ORDER BY created_at DESC, id DESC LIMIT :limit");
  if (after) query, use(after->created_at), use(after->id);
  query, use(limit);
  soci::rowset<soci::row> rows(query);
  std::vector<ApiKey> out;
  for (const auto& row : rows) out.push_back(key_from(row));
  return out;
}

std::optional<ApiKey> find_key(soci::session& sql, const std::string& id) {
  soci::rowset<soci::row> rows =
      (sql.prepare << std::string(kKeyColumns) + "WHERE id = :id", use(id));
  for (const auto& row : rows) return key_from(row);
  return std::nullopt;
}

std::optional<ApiKey> find_key_by_hash(soci::session& sql, const std::string& key_hash) {
  auto& query = db::cached<HashLookup>(sql);
  query.key_hash = key_hash;
  query.statement.execute(true);
  if (!query.statement.got_data()) return std::nullopt;
  auto key = query.row.take();
  db::finish_row(query.statement);
  return key;
}

void revoke_key(soci::session& sql, const std::string& id, long long now) {
  sql << "UPDATE api_keys SET revoked_at = :now WHERE id = :id AND revoked_at IS NULL", use(now),
      use(id);
}

void touch_key(soci::session& sql, const std::string& id, long long now, long long stale_before) {
  sql << "UPDATE api_keys SET last_used_at = :now "
         "WHERE id = :id AND (last_used_at IS NULL OR last_used_at < :stale_before)",
      use(now), use(id), use(stale_before);
}

}  // namespace apikey::store
