-- PostgreSQL: the enumerated and bounded columns that every apply, credit,
-- revoke and event writes are held to their values by domains instead of
-- table CHECK constraints (issue 17). The values allowed are unchanged.
--
-- Why: PostgreSQL re-reads a table's CHECK constraints from their stored
-- text and plans them again in every INSERT or UPDATE statement, whichever
-- columns it sets, while a domain's check is read and planned once per
-- connection and runs only where a value is stored into the column. A
-- profile of apply at -c32 put 7.2% of PostgreSQL's CPU in ExecConstraints,
-- 4.3% of it parsing constraint text; a row insert into a table shaped like
-- rewards costs 15-35 us less of PostgreSQL's CPU with domains (pgbench).
-- docs/PERFORMANCE.md, "CHECK constraints as domains".
--
-- PostgreSQL rewrites each table below and rebuilds its indexes under an
-- exclusive lock (about 4 s per million rows): docs/OPERATIONS.md, "Rolling
-- upgrades and migrations".
--
-- A domain's constraint keeps the old constraint's name (<domain>_check)
-- and a refused value's error names the domain, whose name begins with its
-- table's. A new value (a new event type, say) is added by replacing the
-- domain's constraint: ALTER DOMAIN ... DROP CONSTRAINT, ADD CONSTRAINT.
--
-- SQLite's checks (CHECK constraints and 0015's and 0025's triggers) are
-- evaluated in place and cost nothing to prepare: unchanged.

-- dialect: postgresql
CREATE DOMAIN referrals_status AS TEXT CONSTRAINT referrals_status_check CHECK (VALUE IN ('PENDING', 'SUCCESS', 'REJECTED'));
CREATE DOMAIN referrals_is_flagged AS INTEGER CONSTRAINT referrals_is_flagged_check CHECK (VALUE IN (0, 1));
CREATE DOMAIN rewards_status AS TEXT CONSTRAINT rewards_status_check CHECK (VALUE IN ('PENDING', 'CREDITED', 'REVOKED'));
CREATE DOMAIN rewards_beneficiary AS TEXT CONSTRAINT rewards_beneficiary_check CHECK (VALUE IN ('REFERRER', 'REFEREE'));
CREATE DOMAIN rewards_reward_type AS TEXT CONSTRAINT rewards_reward_type_check CHECK (VALUE IN ('SIGNUP', 'FIRST_ORDER', 'PURCHASE', 'MILESTONE'));
CREATE DOMAIN rewards_reward_unit AS TEXT CONSTRAINT rewards_reward_unit_check CHECK (VALUE IN ('POINTS', 'CASH'));
CREATE DOMAIN rewards_reward_value AS BIGINT CONSTRAINT rewards_reward_value_check CHECK (VALUE >= 0);
CREATE DOMAIN idempotency_keys_state AS TEXT CONSTRAINT idempotency_keys_state_check CHECK (VALUE IN ('running', 'done'));
CREATE DOMAIN domain_events_type AS TEXT CONSTRAINT domain_events_type_check CHECK (VALUE IN ('user.verified', 'referral.created', 'referral.flagged', 'referral.status_changed', 'reward.created', 'reward.credited', 'reward.revoked', 'milestone.reached'));
CREATE DOMAIN ledger_entries_kind AS TEXT CONSTRAINT ledger_entries_kind_check CHECK (VALUE IN ('created', 'credited', 'revoked'));
CREATE DOMAIN ledger_head_id AS INTEGER CONSTRAINT ledger_head_id_check CHECK (VALUE = 1);
CREATE DOMAIN referral_counters_name AS TEXT CONSTRAINT referral_counters_name_check CHECK (VALUE IN ('PENDING', 'SUCCESS', 'REJECTED'));
CREATE DOMAIN referral_counters_shard AS INTEGER CONSTRAINT referral_counters_shard_check CHECK (VALUE BETWEEN 0 AND 15);
CREATE DOMAIN reward_counters_status AS TEXT CONSTRAINT reward_counters_status_check CHECK (VALUE IN ('PENDING', 'CREDITED', 'REVOKED'));
CREATE DOMAIN reward_counters_unit AS TEXT CONSTRAINT reward_counters_unit_check CHECK (VALUE IN ('POINTS', 'CASH'));
CREATE DOMAIN reward_counters_shard AS INTEGER CONSTRAINT reward_counters_shard_check CHECK (VALUE BETWEEN 0 AND 15);

ALTER TABLE referrals DROP CONSTRAINT referrals_status_check, DROP CONSTRAINT referrals_is_flagged_check,
  ALTER COLUMN status TYPE referrals_status, ALTER COLUMN is_flagged TYPE referrals_is_flagged;
ALTER TABLE rewards DROP CONSTRAINT rewards_status_check, DROP CONSTRAINT rewards_beneficiary_check,
  DROP CONSTRAINT rewards_reward_type_check, DROP CONSTRAINT rewards_reward_unit_check,
  DROP CONSTRAINT rewards_reward_value_check,
  ALTER COLUMN status TYPE rewards_status, ALTER COLUMN beneficiary TYPE rewards_beneficiary,
  ALTER COLUMN reward_type TYPE rewards_reward_type, ALTER COLUMN reward_unit TYPE rewards_reward_unit,
  ALTER COLUMN reward_value TYPE rewards_reward_value;
ALTER TABLE idempotency_keys DROP CONSTRAINT idempotency_keys_state_check,
  ALTER COLUMN state TYPE idempotency_keys_state;
ALTER TABLE domain_events DROP CONSTRAINT domain_events_type_check, ALTER COLUMN type TYPE domain_events_type;
ALTER TABLE ledger_head DROP CONSTRAINT ledger_head_id_check, ALTER COLUMN id TYPE ledger_head_id;
ALTER TABLE referral_counters DROP CONSTRAINT referral_counters_name_check,
  DROP CONSTRAINT referral_counters_shard_check,
  ALTER COLUMN name TYPE referral_counters_name, ALTER COLUMN shard TYPE referral_counters_shard;
ALTER TABLE reward_counters DROP CONSTRAINT reward_counters_status_check,
  DROP CONSTRAINT reward_counters_unit_check, DROP CONSTRAINT reward_counters_shard_check,
  ALTER COLUMN status TYPE reward_counters_status, ALTER COLUMN unit TYPE reward_counters_unit,
  ALTER COLUMN shard TYPE reward_counters_shard;

-- reward_events (0015) reads ledger_entries.kind: a column a view uses
-- cannot change type, so the view is made again as it was.
DROP VIEW reward_events;
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_kind_check, ALTER COLUMN kind TYPE ledger_entries_kind;
CREATE VIEW reward_events AS
SELECT CAST(seq AS TEXT) AS id, reward_id,
       CASE LAG(kind) OVER (PARTITION BY reward_id ORDER BY seq)
         WHEN 'created' THEN 'PENDING' WHEN 'credited' THEN 'CREDITED' WHEN 'revoked' THEN 'REVOKED' END
         AS from_status,
       CASE kind WHEN 'created' THEN 'PENDING' WHEN 'credited' THEN 'CREDITED' ELSE 'REVOKED' END AS to_status,
       CASE WHEN actor = 'system' THEN NULL ELSE actor END AS actor_id, reason, at
FROM ledger_entries;

-- A column whose type changed loses its statistics until the next ANALYZE:
-- a database upgraded with rows gets them back now. An empty one is left
-- as never analysed, which the planner sizes as a few pages rather than as
-- empty (analysed empty, it would read whole indexes until autovacuum came).
DO $$ DECLARE t TEXT; BEGIN FOREACH t IN ARRAY ARRAY['referrals', 'rewards', 'idempotency_keys', 'domain_events', 'ledger_entries', 'referral_counters', 'reward_counters'] LOOP IF pg_relation_size(t::regclass) > 0 THEN EXECUTE format('ANALYZE %I', t); END IF; END LOOP; END $$;
