-- Reward rules (docs/API.md, Reward rules): percent-of-amount configs, holds
-- with automatic credit, per-referrer caps, budgets, PURCHASE rewards and
-- milestones. Kinds and statuses are checked by the database.
--
-- SQLite cannot add a CHECK to an existing column nor drop a table-level
-- UNIQUE, so it rebuilds reward_configs, rewards and events. rewards has a
-- child that must never lose a row (ledger_entries, append-only): with
-- foreign keys deferred to the commit, its rows are copied aside, the table
-- is dropped (the children's references count as violations) and created
-- again under its own name, and putting the rows back resolves every one of
-- them before the commit checks. The new table's CHECK on status replaces
-- the triggers migration 0015 used for it (dropped with the old table).
-- A reward's value may be 0: the import keeps rewards of value 0 from the
-- original service.

-- dialect: sqlite
CREATE TABLE reward_configs_next (
  id TEXT PRIMARY KEY,
  reward_type TEXT NOT NULL CHECK (reward_type IN ('SIGNUP', 'FIRST_ORDER', 'PURCHASE')),
  reward_value BIGINT NOT NULL CHECK (reward_value >= 0),
  reward_unit TEXT NOT NULL CHECK (reward_unit IN ('POINTS', 'CASH')),
  beneficiary TEXT NOT NULL CHECK (beneficiary IN ('REFERRER', 'REFEREE')),
  auto_credit INTEGER NOT NULL DEFAULT 0 CHECK (auto_credit IN (0, 1)),
  is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  created_by TEXT,
  created_at BIGINT NOT NULL,
  deactivated_at BIGINT,
  percent_of_amount INTEGER CHECK (percent_of_amount BETWEEN 1 AND 100),
  max_value BIGINT CHECK (max_value > 0),
  hold_days INTEGER NOT NULL DEFAULT 0 CHECK (hold_days BETWEEN 0 AND 365),
  max_rewards_per_referrer BIGINT CHECK (max_rewards_per_referrer > 0),
  budget BIGINT CHECK (budget > 0),
  budget_used BIGINT NOT NULL DEFAULT 0,
  CHECK ((percent_of_amount IS NULL) = (reward_value > 0)),
  CHECK (budget_used >= 0 AND (budget IS NULL OR budget_used <= budget))
);
INSERT INTO reward_configs_next (id, reward_type, reward_value, reward_unit, beneficiary, auto_credit,
  is_active, created_by, created_at, deactivated_at)
SELECT id, reward_type, reward_value, reward_unit, beneficiary, auto_credit, is_active, created_by,
  created_at, deactivated_at FROM reward_configs;
DROP TABLE reward_configs;
ALTER TABLE reward_configs_next RENAME TO reward_configs;
CREATE UNIQUE INDEX reward_configs_one_active ON reward_configs (reward_type, beneficiary) WHERE is_active = 1;

PRAGMA defer_foreign_keys = ON;
CREATE TABLE rewards_aside AS SELECT * FROM rewards;
DROP TABLE rewards;
CREATE TABLE rewards (
  id TEXT PRIMARY KEY,
  referral_id TEXT NOT NULL REFERENCES referrals (id) ON DELETE CASCADE,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  beneficiary TEXT NOT NULL CHECK (beneficiary IN ('REFERRER', 'REFEREE')),
  reward_type TEXT NOT NULL CHECK (reward_type IN ('SIGNUP', 'FIRST_ORDER', 'PURCHASE', 'MILESTONE')),
  reward_value BIGINT NOT NULL CHECK (reward_value >= 0),
  reward_unit TEXT NOT NULL CHECK (reward_unit IN ('POINTS', 'CASH')),
  status TEXT NOT NULL CHECK (status IN ('PENDING', 'CREDITED', 'REVOKED')),
  config_id TEXT,
  created_at BIGINT NOT NULL,
  credited_at BIGINT,
  revoked_at BIGINT,
  available_at BIGINT,
  auto_credit_at BIGINT,
  event_id TEXT,
  milestone_id TEXT
);
INSERT INTO rewards (id, referral_id, user_id, beneficiary, reward_type, reward_value, reward_unit,
  status, config_id, created_at, credited_at, revoked_at)
SELECT id, referral_id, user_id, beneficiary, reward_type, reward_value, reward_unit, status, config_id,
  created_at, credited_at, revoked_at FROM rewards_aside;
DROP TABLE rewards_aside;
CREATE INDEX rewards_by_status ON rewards (status, created_at, id);
CREATE INDEX rewards_by_time ON rewards (created_at, id);

CREATE TABLE events_next (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL CHECK (type IN ('FIRST_ORDER', 'PURCHASE')),
  external_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  result TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  amount BIGINT CHECK (amount >= 0),
  currency TEXT,
  UNIQUE (type, external_id)
);
INSERT INTO events_next (id, type, external_id, user_id, result, created_at)
SELECT id, type, external_id, user_id, result, created_at FROM events;
DROP TABLE events;
ALTER TABLE events_next RENAME TO events;

-- dialect: postgresql
ALTER TABLE reward_configs
  ADD COLUMN percent_of_amount INTEGER CHECK (percent_of_amount BETWEEN 1 AND 100),
  ADD COLUMN max_value BIGINT CHECK (max_value > 0),
  ADD COLUMN hold_days INTEGER NOT NULL DEFAULT 0 CHECK (hold_days BETWEEN 0 AND 365),
  ADD COLUMN max_rewards_per_referrer BIGINT CHECK (max_rewards_per_referrer > 0),
  ADD COLUMN budget BIGINT CHECK (budget > 0),
  ADD COLUMN budget_used BIGINT NOT NULL DEFAULT 0,
  ADD CHECK (reward_type IN ('SIGNUP', 'FIRST_ORDER', 'PURCHASE')),
  ADD CHECK (reward_value >= 0),
  ADD CHECK (reward_unit IN ('POINTS', 'CASH')),
  ADD CHECK (beneficiary IN ('REFERRER', 'REFEREE')),
  ADD CHECK (auto_credit IN (0, 1)),
  ADD CHECK (is_active IN (0, 1)),
  ADD CHECK ((percent_of_amount IS NULL) = (reward_value > 0)),
  ADD CHECK (budget_used >= 0 AND (budget IS NULL OR budget_used <= budget));
ALTER TABLE rewards
  DROP CONSTRAINT rewards_referral_id_user_id_reward_type_key,
  ADD COLUMN available_at BIGINT,
  ADD COLUMN auto_credit_at BIGINT,
  ADD COLUMN event_id TEXT,
  ADD COLUMN milestone_id TEXT,
  ADD CHECK (beneficiary IN ('REFERRER', 'REFEREE')),
  ADD CHECK (reward_type IN ('SIGNUP', 'FIRST_ORDER', 'PURCHASE', 'MILESTONE')),
  ADD CHECK (reward_value >= 0),
  ADD CHECK (reward_unit IN ('POINTS', 'CASH'));

ALTER TABLE events
  ADD COLUMN amount BIGINT CHECK (amount >= 0),
  ADD COLUMN currency TEXT,
  ADD CHECK (type IN ('FIRST_ORDER', 'PURCHASE'));

-- dialect: all
-- The user's reward page reads only this index (migration 0006); it now
-- carries available_at too.
DROP INDEX IF EXISTS rewards_by_user;
CREATE INDEX rewards_by_user ON rewards (user_id, created_at, id, referral_id, beneficiary, reward_type,
                                         reward_value, reward_unit, status, credited_at, revoked_at, available_at);
-- SIGNUP and FIRST_ORDER: one per (referral, beneficiary, type). PURCHASE:
-- one per (event, beneficiary). MILESTONE: one per (milestone, user), ever.
CREATE UNIQUE INDEX rewards_one_per_referral ON rewards (referral_id, user_id, reward_type)
  WHERE reward_type IN ('SIGNUP', 'FIRST_ORDER');
CREATE UNIQUE INDEX rewards_one_per_event ON rewards (event_id, beneficiary) WHERE event_id IS NOT NULL;
CREATE UNIQUE INDEX rewards_one_per_milestone ON rewards (milestone_id, user_id) WHERE milestone_id IS NOT NULL;
-- A referral's rewards (settling its status reads them on every apply and
-- move): the partial unique index above cannot serve `WHERE referral_id = ?`,
-- and without this one that read scanned every reward (apply fell from
-- thousands to 30 req/s on SQLite, bench/bench.py --scenarios apply).
CREATE INDEX rewards_by_referral ON rewards (referral_id, created_at, id);
-- The hold timer's queue: pending rewards it will credit, by due time.
CREATE INDEX rewards_auto_credit_due ON rewards (auto_credit_at)
  WHERE status = 'PENDING' AND auto_credit_at IS NOT NULL;

-- How many rewards a config has made per beneficiary, ever (revokes do not
-- give a place back): the counter max_rewards_per_referrer is checked
-- against with one conditional upsert.
CREATE TABLE reward_config_counts (
  config_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  rewards BIGINT NOT NULL CHECK (rewards >= 0),
  PRIMARY KEY (config_id, user_id)
);

CREATE TABLE milestones (
  id TEXT PRIMARY KEY,
  successful_referrals BIGINT NOT NULL CHECK (successful_referrals >= 1),
  reward_value BIGINT NOT NULL CHECK (reward_value > 0),
  reward_unit TEXT NOT NULL CHECK (reward_unit IN ('POINTS', 'CASH')),
  is_active INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
  created_by TEXT,
  created_at BIGINT NOT NULL,
  deactivated_at BIGINT
);
CREATE INDEX milestones_active ON milestones (successful_referrals) WHERE is_active = 1;

