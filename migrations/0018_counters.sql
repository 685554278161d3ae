-- Counters kept in the transactions that change what they count (issue 17):
-- admin stats counted a million users and rewards per call (0.6 s) and
-- /metrics counted the outbox per scrape. Each domain owns its table (see
-- src/db/counter_store.hpp): a count is the SUM of its shards (0..15), so
-- concurrent PostgreSQL transactions rarely wait on one row's lock. A new
-- count is a new name in the CHECK; the initial values come from the rows.

CREATE TABLE user_counters (
  name TEXT NOT NULL CHECK (name IN ('users', 'verified')),
  shard INTEGER NOT NULL CHECK (shard BETWEEN 0 AND 15),
  value BIGINT NOT NULL,
  PRIMARY KEY (name, shard)
);
INSERT INTO user_counters (name, shard, value) SELECT 'users', 0, COUNT(*) FROM users;
INSERT INTO user_counters (name, shard, value)
  SELECT 'verified', 0, COUNT(*) FROM users WHERE is_verified = 1;

CREATE TABLE referral_counters (
  name TEXT NOT NULL CHECK (name IN ('PENDING', 'SUCCESS', 'REJECTED')),
  shard INTEGER NOT NULL CHECK (shard BETWEEN 0 AND 15),
  value BIGINT NOT NULL,
  PRIMARY KEY (name, shard)
);
INSERT INTO referral_counters (name, shard, value) SELECT status, 0, COUNT(*) FROM referrals GROUP BY status;

-- Emails queued or being sent (the outbox_depth gauge).
CREATE TABLE outbox_counters (
  name TEXT NOT NULL CHECK (name IN ('depth')),
  shard INTEGER NOT NULL CHECK (shard BETWEEN 0 AND 15),
  value BIGINT NOT NULL,
  PRIMARY KEY (name, shard)
);
INSERT INTO outbox_counters (name, shard, value)
  SELECT 'depth', 0, COUNT(*) FROM outbox WHERE status IN ('queued', 'sending');
