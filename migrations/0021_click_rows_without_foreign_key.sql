-- PostgreSQL checked link_clicks' foreign key once per click row: in the
-- share-link benchmark that check was about 40% of the database's CPU per
-- click (perf, docs/PERFORMANCE.md, *Share links*). The flusher now locks the
-- batch's codes once (FOR KEY SHARE, links::store::lock_codes) and writes
-- only clicks of codes that exist; this trigger keeps what ON DELETE CASCADE
-- did. SQLite keeps the foreign key: its check is an in-process lookup, and
-- dropping it would mean copying the table.

-- dialect: postgresql
ALTER TABLE link_clicks DROP CONSTRAINT link_clicks_code_id_fkey;
CREATE FUNCTION referrald_code_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN DELETE FROM link_clicks WHERE code_id = OLD.id; RETURN NULL; END $$;
CREATE TRIGGER referral_codes_delete_clicks AFTER DELETE ON referral_codes
  FOR EACH ROW EXECUTE FUNCTION referrald_code_deleted();
