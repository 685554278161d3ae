-- Webhooks (src/webhook/): endpoints and one delivery row per (endpoint, event).

-- `events` is the subscribed types, space-separated, or "*". The signing
-- secrets are sealed with a key derived from the server secret (the HMAC
-- needs the secret itself, so it cannot be hashed like a password); the
-- previous secret keeps signing until `previous_secret_until` after a
-- rotation. `failing_since`: start of the current run of failed attempts
-- (0 = the last attempt succeeded), for WEBHOOK_DISABLE_AFTER.
CREATE TABLE webhook_endpoints (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  events TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)),
  disabled_reason TEXT,
  secret_sealed TEXT NOT NULL,
  previous_secret_sealed TEXT,
  previous_secret_until BIGINT NOT NULL DEFAULT 0,
  failing_since BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);

-- `payload` is the exact body sent on every attempt (the same webhook-id and
-- bytes on each retry). A pending row is in flight while `leased_until` is
-- in the future; the outcome is recorded only under that lease (a fence).
CREATE TABLE webhook_deliveries (
  id TEXT PRIMARY KEY,
  endpoint_id TEXT NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
  event_id TEXT NOT NULL,
  event_type TEXT NOT NULL CHECK (event_type IN ('user.verified', 'referral.created', 'referral.flagged',
    'referral.status_changed', 'reward.created', 'reward.credited', 'reward.revoked', 'milestone.reached',
    'webhook.test')),
  payload TEXT NOT NULL,
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
-- The dispatcher claims due rows per endpoint; /metrics counts and ages the
-- pending rows. Partial indexes: delivered rows (almost all) cost nothing here.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (endpoint_id, next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
-- The deliveries list of one endpoint, newest first.
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries (endpoint_id, created_at, id);
