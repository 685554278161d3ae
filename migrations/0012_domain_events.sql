-- The event spine (src/events/, docs/ARCHITECTURE.md "The event spine"): one
-- row per domain change, written in the transaction of the change, read by
-- consumers that each keep a cursor.
--
-- On PostgreSQL a sequence value is taken when the row is inserted, not when
-- its transaction commits, so a reader reading "seq > cursor" could pass a
-- seq whose transaction commits later and never see it. Each row therefore
-- carries its writer's transaction id (`writer_xid`, the xid8 as a number);
-- readers read only rows of transactions older than every transaction still
-- running (the snapshot's xmin), in (writer_xid, seq) order. That prefix is
-- final: no transaction that is running or yet to start can add to it. On
-- SQLite one writer commits at a time, so seq order is commit order and
-- writer_xid stays 0.

-- dialect: sqlite
CREATE TABLE domain_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL CHECK (type IN ('user.verified', 'referral.created', 'referral.flagged',
    'referral.status_changed', 'reward.created', 'reward.credited', 'reward.revoked', 'milestone.reached')),
  aggregate_id TEXT NOT NULL,
  data_json TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  writer_xid BIGINT NOT NULL DEFAULT 0
);

-- dialect: postgresql
CREATE TABLE domain_events (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL CHECK (type IN ('user.verified', 'referral.created', 'referral.flagged',
    'referral.status_changed', 'reward.created', 'reward.credited', 'reward.revoked', 'milestone.reached')),
  aggregate_id TEXT NOT NULL,
  data_json TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  writer_xid BIGINT NOT NULL DEFAULT CAST(CAST(pg_current_xact_id() AS TEXT) AS BIGINT)
);
-- The readers' order and range.
CREATE INDEX domain_events_by_writer ON domain_events (writer_xid, seq);

-- dialect: all
-- One row per consumer: the last event it consumed, in reading order. The row
-- is locked while a consumer reads and advances, so two instances do not
-- consume the same events (in the normal case: after a crash an event may be
-- consumed again, at least once).
CREATE TABLE event_cursors (
  consumer TEXT PRIMARY KEY,
  last_xid BIGINT NOT NULL DEFAULT 0,
  last_seq BIGINT NOT NULL DEFAULT 0
);
