#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "apikey/api_key_store.hpp"
#include "db/database.hpp"

namespace apikey {

// The scopes of docs/API.md (API keys), in the order of their bits.
const std::vector<std::string>& all_scopes();
std::vector<std::string> scopes_of(int scope_bits);

struct NewKey {
  std::string name;
  std::vector<std::string> scopes;
};

struct CreatedKey {
  store::ApiKey key;
  std::string secret;  // "rk_..." — returned once, never stored
};

// API keys: created (the text shown once), listed, revoked, and checked on
// every request that carries one. A check reads the key's row by the hash
// of its text, so a revoke on any instance holds on every instance at once.
class ApiKeyService {
 public:
  explicit ApiKeyService(db::Database& database) : database_(database) {}

  // 400 validation_error for a bad name or scope list.
  CreatedKey create(const NewKey& request, const std::string& actor_id);
  std::vector<store::ApiKey> list(const std::optional<core::Cursor>& after, int limit);
  // 404 api_key_not_found; revoking a revoked key changes nothing.
  store::ApiKey revoke(const std::string& id);
  // The key of this text when it is live and holds `scope`: 401
  // invalid_api_key (unknown, revoked or malformed alike), 403
  // insufficient_scope. Refreshes last_used_at at most once a minute.
  store::ApiKey authenticate(std::string_view secret, std::string_view scope);

 private:
  void note_use(const store::ApiKey& key, long long now);

  db::Database& database_;
};

}  // namespace apikey
