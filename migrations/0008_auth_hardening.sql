-- Accounts hardening after the security review (docs/RELIABILITY.md, "Accounts").

-- Each signup attempt has an id, answered to the client that made it, so a
-- code verifies only the attempt it was sent for. `signup_superseded`: this
-- attempt replaced an earlier one whose code was still live, so the code
-- alone (email + otp) does not say whose attempt the mailbox owner meant.
ALTER TABLE users ADD COLUMN signup_id TEXT;
ALTER TABLE users ADD COLUMN signup_superseded INTEGER NOT NULL DEFAULT 0 CHECK (signup_superseded IN (0, 1));

-- Code tries are counted per (email, purpose), whether or not an account
-- exists, so the answers to guesses say nothing about which addresses have
-- accounts: `code_tries` since the last code request (5 per code) and
-- `window_tries` in the 24 h window that began at `window_started_at` (the
-- ceiling across codes). The per-code count on `otps` gives way to them.
ALTER TABLE code_requests ADD COLUMN code_tries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE code_requests ADD COLUMN window_started_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE code_requests ADD COLUMN window_tries INTEGER NOT NULL DEFAULT 0;
ALTER TABLE otps DROP COLUMN attempts;

-- Failed logins per normalized email, existing account or not (the lockout
-- must answer alike for unknown addresses). A login claims its attempt here
-- before any password is hashed.
CREATE TABLE login_failures (
  email TEXT PRIMARY KEY,
  failures INTEGER NOT NULL DEFAULT 0,
  locked_until BIGINT NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL
);
CREATE INDEX login_failures_updated_at ON login_failures (updated_at);
INSERT INTO login_failures (email, failures, locked_until, updated_at)
  SELECT email, failed_logins, locked_until, created_at FROM users WHERE failed_logins > 0 OR locked_until > 0;
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN locked_until;

-- The addresses each user logged in from (30 days, purged by the sweeper),
-- kept apart from sessions so logging out does not erase them: the
-- referral same-IP rule reads this.
CREATE TABLE login_ips (
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  ip TEXT NOT NULL,
  last_login_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, ip)
);
CREATE INDEX login_ips_last_login_at ON login_ips (last_login_at);
INSERT INTO login_ips (user_id, ip, last_login_at)
  SELECT user_id, ip, MAX(created_at) FROM sessions GROUP BY user_id, ip;

-- Imported bcrypt hashes not yet upgraded: the login path reads their
-- highest cost so refusals spend as long as a bcrypt check would.
CREATE INDEX users_bcrypt_cost ON users (substr(password_hash, 5, 2)) WHERE password_hash LIKE '$2%';
