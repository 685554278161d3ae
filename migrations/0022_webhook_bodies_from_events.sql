-- A delivery of a domain event no longer stores its body: the dispatcher
-- builds it from the event's domain_events row (immutable, never deleted), so
-- every attempt still sends the same bytes. `payload` now holds only bodies
-- that have no such row (webhook.test). The fan-out inserts about nine rows
-- per apply on SQLite's single writer, and each row and its outcome UPDATE
-- carried a copy of the event's resource (docs/PERFORMANCE.md, Webhooks).
-- webhook_deliveries_pending is dropped: the per-endpoint due index answers
-- /metrics (one seek per endpoint), and every pending row no longer costs a
-- second index entry on insert and on delivery.

-- dialect: sqlite
CREATE TABLE webhook_deliveries_next (
  id TEXT PRIMARY KEY,
  endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL CHECK (event_type IN ('user.verified', 'referral.created', 'referral.flagged',
    'referral.status_changed', 'reward.created', 'reward.credited', 'reward.revoked', 'milestone.reached',
    'webhook.test')),
  payload TEXT CHECK (payload IS NOT NULL OR event_type <> 'webhook.test'),
  status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  last_status_code INTEGER,
  last_error TEXT,
  next_attempt_at BIGINT NOT NULL,
  leased_until BIGINT NOT NULL DEFAULT 0,
  delivered_at BIGINT,
  created_at BIGINT NOT NULL,
  UNIQUE (endpoint_id, event_id)
);
INSERT INTO webhook_deliveries_next (id, endpoint_id, event_id, event_type, payload, status, attempts,
  last_status_code, last_error, next_attempt_at, leased_until, delivered_at, created_at)
SELECT id, endpoint_id, event_id, event_type, payload, status, attempts, last_status_code, last_error,
  next_attempt_at, leased_until, delivered_at, created_at FROM webhook_deliveries;
DROP TABLE webhook_deliveries;
ALTER TABLE webhook_deliveries_next RENAME TO webhook_deliveries;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, created_at, id);

-- dialect: postgresql
ALTER TABLE webhook_deliveries ALTER COLUMN payload DROP NOT NULL;
ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_test_body
  CHECK (payload IS NOT NULL OR event_type <> 'webhook.test');
DROP INDEX webhook_deliveries_pending;
