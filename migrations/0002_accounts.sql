CREATE TABLE users (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  -- The mailbox behind the address (gmail dots and +tags removed): fraud checks.
  canonical_email TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  is_verified INTEGER NOT NULL DEFAULT 0,
  is_admin INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  verified_at BIGINT,
  -- A referral code given at signup, applied when the email is verified.
  signup_referral_code TEXT,
  failed_logins INTEGER NOT NULL DEFAULT 0,
  locked_until BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX users_canonical_email ON users (canonical_email);

-- One live code per (user, purpose): a new code replaces the old one.
CREATE TABLE otps (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  purpose TEXT NOT NULL,
  code_hash TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT,
  PRIMARY KEY (user_id, purpose)
);
CREATE INDEX otps_expires_at ON otps (expires_at);

-- When a code was last requested for an address, known or not, so the
-- once-a-minute cooldown says nothing about which addresses have accounts.
CREATE TABLE code_requests (
  email TEXT NOT NULL,
  purpose TEXT NOT NULL,
  requested_at BIGINT NOT NULL,
  PRIMARY KEY (email, purpose)
);

CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  ip TEXT NOT NULL,
  user_agent TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id, created_at);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Transactional outbox: an email commits with the change that causes it and
-- a background sender delivers it. The payload is encrypted (it may hold a code).
CREATE TABLE outbox (
  id TEXT PRIMARY KEY,
  recipient TEXT NOT NULL,
  payload TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'queued',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  claimed_until BIGINT NOT NULL DEFAULT 0,
  last_error TEXT,
  created_at BIGINT NOT NULL,
  sent_at BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
