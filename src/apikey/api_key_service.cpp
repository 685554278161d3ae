#include "apikey/api_key_service.hpp"

#include "apikey/api_key_secret.hpp"
#include "auth/email_address.hpp"
#include "core/api_error.hpp"
#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/text.hpp"

namespace apikey {

namespace {

constexpr std::size_t kMaxNameLength = 100;
constexpr std::size_t kPrefixLength = 8;
// last_used_at is a hint for admins ("is this key still in use?"), not an
// audit trail: minute precision keeps it off nearly every request.
constexpr long long kLastUsedGranularityMs = 60'000;

core::ApiError invalid_key() {
  return core::ApiError(401, "invalid_api_key", "The API key is missing, unknown or revoked.");
}

int scope_bit(std::string_view scope) {
  const auto& scopes = all_scopes();
  for (std::size_t i = 0; i < scopes.size(); ++i) {
    if (scopes[i] == scope) return 1 << i;
  }
  return 0;
}

int scope_bits_of(const std::vector<std::string>& scopes) {
  if (scopes.empty()) throw core::validation_error("'scopes' must list at least one scope.");
  int bits = 0;
  for (const auto& scope : scopes) {
    const int bit = scope_bit(scope);
    if (bit == 0) {
      std::string names;
      for (const auto& known : all_scopes()) names += (names.empty() ? "" : ", ") + known;
      throw core::validation_error("'scopes' may hold only " + names + ".");
    }
    bits |= bit;
  }
  return bits;
}

void require_name(const std::string& name) {
  if (core::trim_view(name).empty() || auth::utf8_length(name) > kMaxNameLength) {
    throw core::validation_error("'name' must be 1 to " + std::to_string(kMaxNameLength) +
                                 " characters long and not blank.");
  }
}

}  // namespace

const std::vector<std::string>& all_scopes() {
  static const std::vector<std::string> scopes{"events:write", "rewards:read", "rewards:write",
                                               "referrals:read", "webhooks:manage"};
  return scopes;
}

std::vector<std::string> scopes_of(int scope_bits) {
  std::vector<std::string> out;
  const auto& scopes = all_scopes();
  for (std::size_t i = 0; i < scopes.size(); ++i) {
    if (scope_bits & (1 << i)) out.push_back(scopes[i]);
  }
  return out;
}

CreatedKey ApiKeyService::create(const NewKey& request, const std::string& actor_id) {
  require_name(request.name);
  CreatedKey created;
  created.secret = new_secret();
  created.key.id = core::new_id();
  created.key.name = request.name;
  created.key.prefix = created.secret.substr(0, kPrefixLength);
  created.key.key_hash = hash_secret(created.secret);
  created.key.scope_bits = scope_bits_of(request.scopes);
  created.key.created_by = actor_id;
  created.key.created_at = core::now_ms();
  database_.write([&](soci::session& sql) { store::insert_key(sql, created.key); });
  return created;
}

std::vector<store::ApiKey> ApiKeyService::list(const std::optional<core::Cursor>& after,
                                               int limit) {
  return database_.read([&](soci::session& sql) { return store::list_keys(sql, after, limit); });
}

store::ApiKey ApiKeyService::revoke(const std::string& id) {
  return database_.write([&](soci::session& sql) {
    store::revoke_key(sql, id, core::now_ms());
    auto key = store::find_key(sql, id);
    if (!key) throw core::ApiError(404, "api_key_not_found", "No such API key.");
    return *key;
  });
}

store::ApiKey ApiKeyService::authenticate(std::string_view secret, std::string_view scope) {
  if (!looks_like_secret(secret)) throw invalid_key();
  const auto hash = hash_secret(secret);
  const auto key =
      database_.read([&](soci::session& sql) { return store::find_key_by_hash(sql, hash); });
  // The row was found by its hash, so the compare cannot fail for a found
  // row; it is constant-time so that no future lookup path (a prefix
  // search, a cache) can turn it into a timing oracle.
  if (!key || !core::constant_time_equal(key->key_hash, hash) || key->revoked_at)
    throw invalid_key();
  if ((key->scope_bits & scope_bit(scope)) == 0) {
    throw core::ApiError(403, "insufficient_scope",
                         "This API key lacks the scope '" + std::string(scope) + "'.");
  }
  note_use(*key, core::now_ms());
  return *key;
}

// A write on at most one request a minute per key (the read just made says
// whether it is due); requests racing at the minute's turn each send the
// conditional UPDATE, and only the first changes the row.
void ApiKeyService::note_use(const store::ApiKey& key, long long now) {
  const auto stale_before = now - kLastUsedGranularityMs;
  if (key.last_used_at && *key.last_used_at >= stale_before) return;
  database_.write([&](soci::session& sql) { store::touch_key(sql, key.id, now, stale_before); });
}

}  // namespace apikey
