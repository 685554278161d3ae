#pragma once
#include <soci/session.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/cursor.hpp"

// SQL for webhook_endpoints and webhook_deliveries (migrations/0014_webhooks.sql,
// 0022). A delivery is 'pending' until it is 'delivered' or 'failed'; a
// pending row is in flight while leased_until is in the future, and its
// outcome is recorded only under that lease. A delivery of a domain event
// stores no body: it is rebuilt from the event's immutable domain_events row.
namespace webhook::store {

struct Endpoint {
  std::string id;
  std::string url;
  std::string events;  // space-separated types, or "*"
  std::string description;
  bool enabled = true;
  std::optional<std::string> disabled_reason;
  std::string secret_sealed;
  std::optional<std::string> previous_secret_sealed;
  std::int64_t previous_secret_until = 0;
  std::int64_t failing_since = 0;
  std::int64_t created_at = 0;
};

struct Delivery {
  std::string id;
  std::string event_id;
  std::string event_type;
  std::string status;
  int attempts = 0;
  std::optional<int> last_status_code;
  std::optional<std::string> last_error;
  std::int64_t next_attempt_at = 0;
  std::optional<std::int64_t> delivered_at;
  std::int64_t created_at = 0;
};

struct NewDelivery {
  std::string endpoint_id;
  std::string event_id;
  std::string event_type;
  std::optional<std::string> payload;  // only for a body no domain_events row holds (webhook.test)
  std::int64_t now_ms = 0;
  std::int64_t leased_until = 0;  // > 0: inserted already leased for its first attempt
  std::string id;                 // set by insert_deliveries
};

// A 2xx answer to a claimed attempt.
struct Answered {
  std::string id;
  std::int64_t lease_until = 0;
  int status_code = 0;
};

// A pending row leased for one attempt; `lease_until` is the fence.
struct Claimed {
  std::string id;
  std::string endpoint_id;
  std::string event_id;
  std::string payload;  // the body; empty from claim_due when the row stores none
  int attempts = 0;     // attempts before this one
  std::int64_t lease_until = 0;
};

struct DeliveryFilter {
  std::string endpoint_id;
  std::optional<std::string> status;
  std::optional<core::Cursor> after;
  int limit = 50;
};

void insert_endpoint(soci::session& sql, const Endpoint& endpoint);
std::optional<Endpoint> find_endpoint(soci::session& sql, const std::string& id);
std::vector<Endpoint> list_endpoints(soci::session& sql);
std::vector<Endpoint> enabled_endpoints(soci::session& sql);
// Writes url, events, description, enabled, disabled_reason and failing_since.
void update_endpoint(soci::session& sql, const Endpoint& endpoint);
void update_secrets(soci::session& sql, const Endpoint& endpoint);
bool delete_endpoint(soci::session& sql, const std::string& id);
void disable_endpoint(soci::session& sql, const std::string& id, const std::string& reason);
// Starts the endpoint's run of failures at `now_ms` unless one is running; returns its start.
std::int64_t note_failure(soci::session& sql, const std::string& endpoint_id, std::int64_t now_ms);
void note_success(soci::session& sql, const std::string& endpoint_id);

// No-op when the endpoint already has a delivery of this event (a replay).
void insert_delivery(soci::session& sql, const NewDelivery& delivery);
// The same for many rows, one statement prepared once; assigns each row's
// id. Returns how many were inserted (fewer when some were replays).
long long insert_deliveries(soci::session& sql, std::vector<NewDelivery>& rows);
std::vector<Delivery> list_deliveries(soci::session& sql, const DeliveryFilter& filter);
// Makes the delivery due now; false when the endpoint has no such delivery.
bool retry_now(soci::session& sql, const std::string& endpoint_id, const std::string& delivery_id,
               std::int64_t now_ms);

// Leases up to `limit` due rows of one endpoint until now + lease. A row of
// a domain event comes with an empty payload: the caller builds the body.
std::vector<Claimed> claim_due(soci::session& sql, const std::string& endpoint_id,
                               std::int64_t now_ms, std::int64_t lease_ms, int limit);
// Records 2xx answers, one statement prepared once; returns how many rows
// were still leased to their attempt (the others' leases were lost).
long long mark_delivered(soci::session& sql, const std::vector<Answered>& answers,
                         std::int64_t now_ms);
// Each returns false when the lease was lost (the row is no longer ours).
bool schedule_retry(soci::session& sql, const Claimed& claimed, int status_code,
                    const std::string& error, std::int64_t next_attempt_at_ms);
bool mark_failed(soci::session& sql, const Claimed& claimed, int status_code,
                 const std::string& error);
// Gives an unfinished claim back at once (shutdown) instead of at the lease's end.
bool release(soci::session& sql, const Claimed& claimed);

// True when some enabled endpoint has a pending delivery due at `now_ms`.
bool any_due(soci::session& sql, std::int64_t now_ms);

struct PendingStats {
  long long depth = 0;
  std::optional<std::int64_t>
      oldest_due_at;  // the earliest passed next_attempt_at of an enabled endpoint
};
PendingStats pending_stats(soci::session& sql, std::int64_t now_ms);

}  // namespace webhook::store
