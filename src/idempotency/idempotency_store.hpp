#pragma once
#include <soci/session.h>

#include <optional>
#include <string>

// SQL for stored Idempotency-Key answers.
namespace idempotency::store {

struct Entry {
  std::string fingerprint;
  std::string state;  // "done"; "running" only in rows an older version left
  int response_status = 0;
  std::string response_body;
  long long created_at = 0;
  long long expires_at = 0;
};

// Records (scope, key) as running in the caller's transaction, taking over
// an expired row or one an older version left running; false when a live
// row exists (PostgreSQL: after waiting for the transaction that wrote it).
bool claim(soci::session& sql, const std::string& scope, const std::string& key,
           const std::string& fingerprint, long long now, long long expires_at);
std::optional<Entry> find(soci::session& sql, const std::string& scope, const std::string& key);
void finish(soci::session& sql, const std::string& scope, const std::string& key, int status,
            const std::string& body);
long long purge_expired(soci::session& sql, long long now);

}  // namespace idempotency::store
