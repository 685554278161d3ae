#include "idempotency/idempotency_store.hpp"

#include <soci/soci.h>

#include "db/statements.hpp"

namespace idempotency::store {

using soci::into;
using soci::use;

bool claim(soci::session& sql, const std::string& scope, const std::string& key,
           const std::string& fingerprint, long long now, long long expires_at) {
  return db::affected_rows(sql,
                           "INSERT INTO idempotency_keys (scope, idem_key, fingerprint, state, created_at, "
                           "expires_at) VALUES (:scope, :key, :fingerprint, 'running', :now, :expires_at) "
                           "ON CONFLICT (scope, idem_key) DO NOTHING",
                           use(scope), use(key), use(fingerprint), use(now), use(expires_at)) > 0;
}

std::optional<Entry> find(soci::session& sql, const std::string& scope, const std::string& key) {
  Entry entry;
  sql << "SELECT fingerprint, state, response_status, response_body, created_at, expires_at "
         "FROM idempotency_keys WHERE scope = :scope AND idem_key = :key",
      use(scope), use(key), into(entry.fingerprint), into(entry.state), into(entry.response_status),
      into(entry.response_body), into(entry.created_at), into(entry.expires_at);
  if (!sql.got_data()) return std::nullopt;
  return entry;
}

void restart(soci::session& sql, const std::string& scope, const std::string& key,
             const std::string& fingerprint, long long now, long long expires_at) {
  sql << "UPDATE idempotency_keys SET fingerprint = :fingerprint, state = 'running', response_status = 0, "
         "response_body = '', created_at = :now, expires_at = :expires_at "
         "WHERE scope = :scope AND idem_key = :key",
      use(fingerprint), use(now), use(expires_at), use(scope), use(key);
}

void finish(soci::session& sql, const std::string& scope, const std::string& key, int status,
            const std::string& body) {
  sql << "UPDATE idempotency_keys SET state = 'done', response_status = :status, response_body = :body "
         "WHERE scope = :scope AND idem_key = :key",
      use(status), use(body), use(scope), use(key);
}

void forget(soci::session& sql, const std::string& scope, const std::string& key) {
  sql << "DELETE FROM idempotency_keys WHERE scope = :scope AND idem_key = :key", use(scope), use(key);
}

long long purge_expired(soci::session& sql, long long now) {
  return db::affected_rows(sql, "DELETE FROM idempotency_keys WHERE expires_at < :now", use(now));
}

}  // namespace idempotency::store
