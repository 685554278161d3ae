-- The append-only, hash-chained ledger (docs/ARCHITECTURE.md, "The ledger").
-- Every change of value is one row; reward statuses, balances and counters
-- are projections of these rows, written in the same transaction.
-- dialect: all
CREATE TABLE ledger_entries (
  seq BIGINT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('created', 'credited', 'revoked')),
  -- No ON DELETE: a reward or user with entries cannot be deleted, by a
  -- cascade or otherwise (the statement fails).
  reward_id TEXT NOT NULL REFERENCES rewards (id),
  user_id TEXT NOT NULL REFERENCES users (id),
  amount BIGINT NOT NULL,
  unit TEXT NOT NULL,
  actor TEXT NOT NULL,
  reason TEXT NOT NULL,
  at BIGINT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE INDEX ledger_entries_by_reward ON ledger_entries (reward_id, seq);
CREATE INDEX ledger_entries_by_user ON ledger_entries (user_id);

-- The last entry. Appending takes this row's lock (PostgreSQL: FOR UPDATE),
-- so sequence numbers are handed out one transaction at a time and a
-- rolled-back transaction gives its number back: no gaps.
CREATE TABLE ledger_head (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL,
  at BIGINT NOT NULL
);
INSERT INTO ledger_head (id, seq, hash, at)
  VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000', 0);

-- Today's rewards and their history, in the chain's order, waiting to be
-- hashed into ledger_entries by `referrald migrate` (SQLite has no SHA-256
-- in SQL; ledger::complete_backfill moves them in batches, each batch in one
-- transaction with the deletion of its staged rows, so a crash resumes).
-- Every reward gets `created`; `credited` when it is or was credited;
-- `revoked` when it is revoked. Actor and reason come from the first history
-- row of that move, times from the reward's own stamps (never earlier than
-- the move before), so the entries reproduce every reward's status.
CREATE TABLE ledger_backfill (
  ord BIGINT PRIMARY KEY,
  kind TEXT NOT NULL,
  reward_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  amount BIGINT NOT NULL,
  unit TEXT NOT NULL,
  actor TEXT NOT NULL,
  reason TEXT NOT NULL,
  at BIGINT NOT NULL
);
INSERT INTO ledger_backfill (ord, kind, reward_id, user_id, amount, unit, actor, reason, at)
WITH first_moves AS (
  SELECT reward_id, to_status, actor_id, reason, at FROM (
    SELECT reward_id, to_status, actor_id, reason, at,
           ROW_NUMBER() OVER (PARTITION BY reward_id, to_status ORDER BY at, id) AS n
    FROM reward_events) AS numbered
  WHERE n = 1
), stamped AS (
  SELECT r.id, r.user_id, r.reward_value, r.reward_unit, r.status, r.created_at,
         CASE WHEN COALESCE(r.credited_at, c.at, r.created_at) > r.created_at
              THEN COALESCE(r.credited_at, c.at, r.created_at) ELSE r.created_at END AS credited_at
  FROM rewards r LEFT JOIN first_moves c ON c.reward_id = r.id AND c.to_status = 'CREDITED'
), moves AS (
  SELECT s.id, s.user_id, s.reward_value, s.reward_unit, s.created_at, 'created' AS kind, 0 AS rank,
         s.created_at AS at
  FROM stamped s
  UNION ALL
  SELECT s.id, s.user_id, s.reward_value, s.reward_unit, s.created_at, 'credited', 1, s.credited_at
  FROM stamped s JOIN rewards r ON r.id = s.id
  WHERE s.status = 'CREDITED' OR (s.status = 'REVOKED' AND r.credited_at IS NOT NULL)
  UNION ALL
  SELECT s.id, s.user_id, s.reward_value, s.reward_unit, s.created_at, 'revoked', 2,
         CASE WHEN COALESCE(r.revoked_at, s.credited_at) > s.credited_at
              THEN COALESCE(r.revoked_at, s.credited_at) ELSE s.credited_at END
  FROM stamped s JOIN rewards r ON r.id = s.id
  WHERE s.status = 'REVOKED'
)
SELECT ROW_NUMBER() OVER (ORDER BY m.at, m.created_at, m.id, m.rank), m.kind, m.id, m.user_id,
       m.reward_value, m.reward_unit, COALESCE(f.actor_id, 'system'),
       COALESCE(f.reason, 'recorded before the ledger'), m.at
FROM moves m
LEFT JOIN first_moves f ON f.reward_id = m.id
  AND f.to_status = CASE m.kind WHEN 'created' THEN 'PENDING' WHEN 'credited' THEN 'CREDITED' ELSE 'REVOKED' END;

-- The history table gives way to the ledger; this view keeps its shape
-- (one row per move, with the status it left) for readers of the old table.
DROP TABLE reward_events;
CREATE VIEW reward_events AS
SELECT CAST(seq AS TEXT) AS id, reward_id,
       CASE LAG(kind) OVER (PARTITION BY reward_id ORDER BY seq)
         WHEN 'created' THEN 'PENDING' WHEN 'credited' THEN 'CREDITED' WHEN 'revoked' THEN 'REVOKED' END
         AS from_status,
       CASE kind WHEN 'created' THEN 'PENDING' WHEN 'credited' THEN 'CREDITED' ELSE 'REVOKED' END AS to_status,
       CASE WHEN actor = 'system' THEN NULL ELSE actor END AS actor_id, reason, at
FROM ledger_entries;

-- The database refuses to change or remove an entry, whoever asks.
-- dialect: sqlite
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
-- SQLite cannot add a CHECK to an existing table without rebuilding it (and
-- every table that references it): these triggers are that CHECK.
CREATE TRIGGER rewards_status_check_insert BEFORE INSERT ON rewards WHEN NEW.status NOT IN ('PENDING', 'CREDITED', 'REVOKED') BEGIN SELECT RAISE(ABORT, 'rewards.status must be PENDING, CREDITED or REVOKED'); END;
CREATE TRIGGER rewards_status_check_update BEFORE UPDATE OF status ON rewards WHEN NEW.status NOT IN ('PENDING', 'CREDITED', 'REVOKED') BEGIN SELECT RAISE(ABORT, 'rewards.status must be PENDING, CREDITED or REVOKED'); END;
-- dialect: postgresql
CREATE FUNCTION ledger_entries_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ledger entries are append-only'; END $$;
CREATE TRIGGER ledger_entries_no_change BEFORE UPDATE OR DELETE ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_entries_refuse_change();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_refuse_change();
ALTER TABLE rewards ADD CONSTRAINT rewards_status_check CHECK (status IN ('PENDING', 'CREDITED', 'REVOKED'));
