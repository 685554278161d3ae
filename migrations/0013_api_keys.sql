-- API keys (src/apikey/): credentials for a merchant's backend. Only the
-- SHA-256 of a key is kept (hex); `prefix` is its first 8 characters, for
-- recognising it in lists. `scope_bits` holds the scopes as bits:
-- events:write 1, rewards:read 2, rewards:write 4, referrals:read 8,
-- webhooks:manage 16 (a key has at least one).
CREATE TABLE api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  prefix TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  scope_bits INTEGER NOT NULL CHECK (scope_bits BETWEEN 1 AND 31),
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked_at BIGINT
);
-- The admin list, newest first, one index range per page.
CREATE INDEX api_keys_by_created ON api_keys (created_at, id);
