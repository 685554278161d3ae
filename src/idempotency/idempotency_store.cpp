#include "idempotency/idempotency_store.hpp"

#include <soci/soci.h>

#include "db/statement_cache.hpp"
#include "db/statements.hpp"

namespace idempotency::store {

using soci::into;
using soci::use;

namespace {

// Prepared once per session: every keyed write runs both (db::cached).
struct ClaimQuery {
  explicit ClaimQuery(soci::session& sql)
      : statement(
            (sql.prepare
                 << "INSERT INTO idempotency_keys (scope, idem_key, fingerprint, state, "
                    "created_at, expires_at) VALUES (:scope, :key, :fingerprint, 'running', :now, "
                    ":expires_at) ON CONFLICT (scope, idem_key) DO UPDATE SET "
                    "fingerprint = excluded.fingerprint, state = 'running', response_status = 0, "
                    "response_body = '', created_at = excluded.created_at, "
                    "expires_at = excluded.expires_at "
                    "WHERE idempotency_keys.expires_at < :stale OR idempotency_keys.state = "
                    "'running'",
             use(scope), use(key), use(fingerprint), use(now), use(expires_at), use(now))) {}
  std::string scope, key, fingerprint;
  long long now = 0, expires_at = 0;
  soci::statement statement;
};

struct FinishQuery {
  explicit FinishQuery(soci::session& sql)
      : statement((
            sql.prepare << "UPDATE idempotency_keys SET state = 'done', response_status = :status, "
                           "response_body = :body WHERE scope = :scope AND idem_key = :key",
            use(status), use(body), use(scope), use(key))) {}
  int status = 0;
  std::string body, scope, key;
  soci::statement statement;
};

}  // namespace

bool claim(soci::session& sql, const std::string& scope, const std::string& key,
           const std::string& fingerprint, long long now, long long expires_at) {
  auto& query = db::cached<ClaimQuery>(sql);
  query.scope = scope;
  query.key = key;
  query.fingerprint = fingerprint;
  query.now = now;
  query.expires_at = expires_at;
  query.statement.execute(true);
  return query.statement.get_affected_rows() > 0;
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

void finish(soci::session& sql, const std::string& scope, const std::string& key, int status,
            const std::string& body) {
  auto& query = db::cached<FinishQuery>(sql);
  query.status = status;
  query.body = body;
  query.scope = scope;
  query.key = key;
  query.statement.execute(true);
}

long long purge_expired(soci::session& sql, long long now) {
  return db::affected_rows(sql, "DELETE FROM idempotency_keys WHERE expires_at < :now", use(now));
}

}  // namespace idempotency::store
