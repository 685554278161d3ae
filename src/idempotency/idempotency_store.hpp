#pragma once
#include <soci/session.h>

#include <optional>
#include <string>

// SQL for stored Idempotency-Key answers.
namespace idempotency::store {

struct Entry {
  std::string fingerprint;
  std::string state;  // "running" or "done"
  int response_status = 0;
  std::string response_body;
  long long created_at = 0;
  long long expires_at = 0;
};

// False when (scope, key) exists already.
bool claim(soci::session& sql, const std::string& scope, const std::string& key,
           const std::string& fingerprint, long long now, long long expires_at);
std::optional<Entry> find(soci::session& sql, const std::string& scope, const std::string& key);
// Takes over an entry whose first request died (or whose time ran out).
void restart(soci::session& sql, const std::string& scope, const std::string& key,
             const std::string& fingerprint, long long now, long long expires_at);
void finish(soci::session& sql, const std::string& scope, const std::string& key, int status,
            const std::string& body);
void forget(soci::session& sql, const std::string& scope, const std::string& key);
long long purge_expired(soci::session& sql, long long now);

}  // namespace idempotency::store
