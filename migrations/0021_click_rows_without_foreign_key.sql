-- PostgreSQL checked link_clicks' foreign key once per click row: in the
-- share-link benchmark that check was about 40% of the database's CPU per
-- click (perf, docs/PERFORMANCE.md, *Share links*). The flusher now locks the
-- batch's codes once (FOR KEY SHARE, links::store::lock_codes) and writes
-- only clicks of codes that exist; this trigger keeps what ON DELETE CASCADE
-- did. SQLite keeps the foreign key: its check is an in-process lookup, and
-- dropping it would mean copying the table.
-- link_clicks_by_code only serves that delete (every read of a code's clicks
-- goes to the counters), so on PostgreSQL it holds the code alone: equal keys
-- share a posting list, and a COPY of 400k clicks cost 2.27 instead of 2.62
-- µs of CPU a row (three codes; 1.20 with the primary key alone).

-- dialect: postgresql
ALTER TABLE link_clicks DROP CONSTRAINT link_clicks_code_id_fkey;
CREATE FUNCTION referrald_code_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN DELETE FROM link_clicks WHERE code_id = OLD.id; RETURN NULL; END $$;
CREATE TRIGGER referral_codes_delete_clicks AFTER DELETE ON referral_codes
  FOR EACH ROW EXECUTE FUNCTION referrald_code_deleted();
DROP INDEX link_clicks_by_code;
CREATE INDEX link_clicks_by_code ON link_clicks (code_id);
