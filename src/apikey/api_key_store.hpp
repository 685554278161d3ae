#pragma once
#include <soci/session.h>

#include <optional>
#include <string>
#include <vector>

#include "core/cursor.hpp"

// SQL for API keys. A key's text is never stored, only its hash.
namespace apikey::store {

struct ApiKey {
  std::string id;
  std::string name;
  std::string prefix;
  std::string key_hash;  // hex SHA-256 of the key
  int scope_bits = 0;
  std::string created_by;
  long long created_at = 0;
  std::optional<long long> last_used_at;
  std::optional<long long> revoked_at;
};

void insert_key(soci::session& sql, const ApiKey& key);
// Newest first, after `after` when given.
std::vector<ApiKey> list_keys(soci::session& sql, const std::optional<core::Cursor>& after,
                              int limit);
std::optional<ApiKey> find_key(soci::session& sql, const std::string& id);
// Every request with a key runs this: one read on the unique hash index.
std::optional<ApiKey> find_key_by_hash(soci::session& sql, const std::string& key_hash);
// Stamps revoked_at once; a second revoke keeps the first time.
void revoke_key(soci::session& sql, const std::string& id, long long now);
// Conditional, so many instances and requests refreshing one key write once.
void touch_key(soci::session& sql, const std::string& id, long long now, long long stale_before);

}  // namespace apikey::store
