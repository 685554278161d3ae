-- The database holds every enumerated column to its values, as it does the
-- rewards' (0015, 0016), webhooks' and events' already: a referral's status
-- and flag, an outbox message's status, an Idempotency-Key's state, a
-- one-time code's purpose and a user's flags. Every row the server ever
-- wrote has one of these values, so the checks hold on upgrade.

-- dialect: postgresql
ALTER TABLE referrals ADD CONSTRAINT referrals_status_check CHECK (status IN ('PENDING', 'SUCCESS', 'REJECTED'));
ALTER TABLE referrals ADD CONSTRAINT referrals_is_flagged_check CHECK (is_flagged IN (0, 1));
ALTER TABLE outbox ADD CONSTRAINT outbox_status_check CHECK (status IN ('queued', 'sending', 'sent', 'failed'));
ALTER TABLE idempotency_keys ADD CONSTRAINT idempotency_keys_state_check CHECK (state IN ('running', 'done'));
ALTER TABLE otps ADD CONSTRAINT otps_purpose_check CHECK (purpose IN ('signup', 'password_reset'));
ALTER TABLE code_requests ADD CONSTRAINT code_requests_purpose_check CHECK (purpose IN ('signup', 'password_reset'));
ALTER TABLE users ADD CONSTRAINT users_flags_check CHECK (is_verified IN (0, 1) AND is_admin IN (0, 1));

-- SQLite cannot add a CHECK to an existing table without rebuilding it, and
-- dropping users or referrals would fire their children's ON DELETE CASCADE:
-- these triggers are that CHECK (as 0015's were for rewards).
-- dialect: sqlite
CREATE TRIGGER referrals_check_insert BEFORE INSERT ON referrals WHEN NEW.status NOT IN ('PENDING', 'SUCCESS', 'REJECTED') OR NEW.is_flagged NOT IN (0, 1) BEGIN SELECT RAISE(ABORT, 'referrals.status must be PENDING, SUCCESS or REJECTED and is_flagged 0 or 1'); END;
CREATE TRIGGER referrals_check_update BEFORE UPDATE OF status, is_flagged ON referrals WHEN NEW.status NOT IN ('PENDING', 'SUCCESS', 'REJECTED') OR NEW.is_flagged NOT IN (0, 1) BEGIN SELECT RAISE(ABORT, 'referrals.status must be PENDING, SUCCESS or REJECTED and is_flagged 0 or 1'); END;
CREATE TRIGGER outbox_status_check_insert BEFORE INSERT ON outbox WHEN NEW.status NOT IN ('queued', 'sending', 'sent', 'failed') BEGIN SELECT RAISE(ABORT, 'outbox.status must be queued, sending, sent or failed'); END;
CREATE TRIGGER outbox_status_check_update BEFORE UPDATE OF status ON outbox WHEN NEW.status NOT IN ('queued', 'sending', 'sent', 'failed') BEGIN SELECT RAISE(ABORT, 'outbox.status must be queued, sending, sent or failed'); END;
CREATE TRIGGER idempotency_keys_state_check_insert BEFORE INSERT ON idempotency_keys WHEN NEW.state NOT IN ('running', 'done') BEGIN SELECT RAISE(ABORT, 'idempotency_keys.state must be running or done'); END;
CREATE TRIGGER idempotency_keys_state_check_update BEFORE UPDATE OF state ON idempotency_keys WHEN NEW.state NOT IN ('running', 'done') BEGIN SELECT RAISE(ABORT, 'idempotency_keys.state must be running or done'); END;
CREATE TRIGGER otps_purpose_check_insert BEFORE INSERT ON otps WHEN NEW.purpose NOT IN ('signup', 'password_reset') BEGIN SELECT RAISE(ABORT, 'otps.purpose must be signup or password_reset'); END;
CREATE TRIGGER otps_purpose_check_update BEFORE UPDATE OF purpose ON otps WHEN NEW.purpose NOT IN ('signup', 'password_reset') BEGIN SELECT RAISE(ABORT, 'otps.purpose must be signup or password_reset'); END;
CREATE TRIGGER code_requests_purpose_check_insert BEFORE INSERT ON code_requests WHEN NEW.purpose NOT IN ('signup', 'password_reset') BEGIN SELECT RAISE(ABORT, 'code_requests.purpose must be signup or password_reset'); END;
CREATE TRIGGER code_requests_purpose_check_update BEFORE UPDATE OF purpose ON code_requests WHEN NEW.purpose NOT IN ('signup', 'password_reset') BEGIN SELECT RAISE(ABORT, 'code_requests.purpose must be signup or password_reset'); END;
CREATE TRIGGER users_flags_check_insert BEFORE INSERT ON users WHEN NEW.is_verified NOT IN (0, 1) OR NEW.is_admin NOT IN (0, 1) BEGIN SELECT RAISE(ABORT, 'users.is_verified and users.is_admin must be 0 or 1'); END;
CREATE TRIGGER users_flags_check_update BEFORE UPDATE OF is_verified, is_admin ON users WHEN NEW.is_verified NOT IN (0, 1) OR NEW.is_admin NOT IN (0, 1) BEGIN SELECT RAISE(ABORT, 'users.is_verified and users.is_admin must be 0 or 1'); END;
