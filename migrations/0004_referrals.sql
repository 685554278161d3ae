-- One code per user; `uses` is the counter the per-code cap is checked against.
CREATE TABLE referral_codes (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
  code TEXT NOT NULL UNIQUE,
  uses BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL
);

-- referee_id UNIQUE: a user is referred at most once, ever.
CREATE TABLE referrals (
  id TEXT PRIMARY KEY,
  referee_id TEXT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
  referrer_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_id TEXT NOT NULL REFERENCES referral_codes (id) ON DELETE CASCADE,
  status TEXT NOT NULL,
  flags TEXT,
  is_flagged INTEGER NOT NULL DEFAULT 0,
  ip TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX referrals_by_referrer ON referrals (referrer_id, created_at, id);
CREATE INDEX referrals_by_code ON referrals (code_id, created_at);
CREATE INDEX referrals_flagged ON referrals (created_at, id) WHERE is_flagged = 1;

CREATE TABLE reward_configs (
  id TEXT PRIMARY KEY,
  reward_type TEXT NOT NULL,
  reward_value BIGINT NOT NULL,
  reward_unit TEXT NOT NULL,
  beneficiary TEXT NOT NULL,
  auto_credit INTEGER NOT NULL DEFAULT 0,
  is_active INTEGER NOT NULL DEFAULT 1,
  created_by TEXT,
  created_at BIGINT NOT NULL,
  deactivated_at BIGINT
);
-- At most one active config per (type, beneficiary), held by the database.
CREATE UNIQUE INDEX reward_configs_one_active ON reward_configs (reward_type, beneficiary) WHERE is_active = 1;

-- The ledger. Value, unit and type are copied from the config at creation.
CREATE TABLE rewards (
  id TEXT PRIMARY KEY,
  referral_id TEXT NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  beneficiary TEXT NOT NULL,
  reward_type TEXT NOT NULL,
  reward_value BIGINT NOT NULL,
  reward_unit TEXT NOT NULL,
  status TEXT NOT NULL,
  config_id TEXT,
  created_at BIGINT NOT NULL,
  credited_at BIGINT,
  revoked_at BIGINT,
  UNIQUE (referral_id, user_id, reward_type)
);
CREATE INDEX rewards_by_user ON rewards (user_id, created_at, id);
CREATE INDEX rewards_by_status ON rewards (status, created_at, id);
CREATE INDEX rewards_by_time ON rewards (created_at, id);

-- Append-only history of every status move.
CREATE TABLE reward_events (
  id TEXT PRIMARY KEY,
  reward_id TEXT NOT NULL REFERENCES rewards (id) ON DELETE CASCADE,
  from_status TEXT,
  to_status TEXT NOT NULL,
  actor_id TEXT,
  reason TEXT NOT NULL DEFAULT '',
  at BIGINT NOT NULL
);
CREATE INDEX reward_events_by_reward ON reward_events (reward_id, at);

-- Counters per referrer, written in the same transactions as the referrals
-- they count: summary and leaderboard read these, never aggregates.
CREATE TABLE referrer_stats (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  total BIGINT NOT NULL DEFAULT 0,
  successful BIGINT NOT NULL DEFAULT 0,
  pending BIGINT NOT NULL DEFAULT 0,
  rejected BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX referrer_stats_leaderboard ON referrer_stats (successful DESC, total DESC, user_id);

-- Qualifying events (FIRST_ORDER); a repeat of (type, external_id) returns
-- the stored result.
CREATE TABLE events (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  external_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  result TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  UNIQUE (type, external_id)
);

CREATE TABLE idempotency_keys (
  scope TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  state TEXT NOT NULL,
  response_status INTEGER NOT NULL DEFAULT 0,
  response_body TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  PRIMARY KEY (scope, idem_key)
);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);
