-- The session cache's invalidation feed (docs/ARCHITECTURE.md, "Sessions in
-- memory"). Every instance keeps live sessions and their users in memory and
-- LISTENs on referrald_sessions; these triggers NOTIFY it in the transaction
-- that ends a session or changes its user, so the message leaves only on
-- commit, whatever path made the change: logout, logout everywhere, a revoked
-- session, a password reset, a promotion or demotion, a deleted user (its
-- sessions cascade), the command line, or an operator's own SQL.
-- SQLite keeps no such cache (one process reads the row every time).

-- dialect: postgresql
-- "s:<id>": a session ended before it expired (an expired one is refused by
-- every cache already, so the sweeper's purge sends nothing).
CREATE FUNCTION referrald_session_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN IF OLD.expires_at > (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT THEN PERFORM pg_notify('referrald_sessions', 's:' || OLD.id); END IF; RETURN NULL; END $$;
CREATE TRIGGER sessions_notify_delete AFTER DELETE ON sessions
  FOR EACH ROW EXECUTE FUNCTION referrald_session_changed();
CREATE TRIGGER sessions_notify_update AFTER UPDATE OF id, user_id, expires_at ON sessions
  FOR EACH ROW EXECUTE FUNCTION referrald_session_changed();

-- "u:<id>": what a user's tokens grant, or what verify-session shows, changed.
CREATE FUNCTION referrald_user_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('referrald_sessions', 'u:' || OLD.id); RETURN NULL; END $$;
CREATE TRIGGER users_notify_update AFTER UPDATE OF id, name, email, is_verified, is_admin ON users
  FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.name IS DISTINCT FROM NEW.name
    OR OLD.email IS DISTINCT FROM NEW.email OR OLD.is_verified IS DISTINCT FROM NEW.is_verified
    OR OLD.is_admin IS DISTINCT FROM NEW.is_admin)
  EXECUTE FUNCTION referrald_user_changed();
