-- The last entry's prev_hash, beside its hash (issue 17). PostgreSQL appends
-- a one-entry batch in one statement that updates this row first: an UPDATE
-- that waited for the row's lock evaluates its SET on the newest head (READ
-- COMMITTED), which a SELECT ... FOR UPDATE inside a larger statement does
-- only by re-running that statement's plan, and RETURNING gives the new row
-- only, so the hash the entry chains from must be in it
-- (src/ledger/ledger_store.cpp, CountAndAppendOne). Every append keeps it.
ALTER TABLE ledger_head ADD COLUMN prev_hash TEXT;
UPDATE ledger_head SET prev_hash = (SELECT prev_hash FROM ledger_entries WHERE seq = ledger_head.seq);
