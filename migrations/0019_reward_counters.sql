-- Rewards per (unit, status), kept in the transactions that change them
-- (issue 17): admin stats grouped every reward per call. A projection of
-- the ledger: ledger::append changes it from the entries it appends
-- (src/ledger/reward_counts.cpp). As in 0018, a count is the SUM of its
-- shards (0..15). The value is kept as db::split_sum reads it, two exact
-- partial sums (of value / 2^32 and value % 2^32), so stats join them with
-- the same saturation as before: exact up to 2^63-1, then 2^63-1.
CREATE TABLE reward_counters (
  unit TEXT NOT NULL CHECK (unit IN ('POINTS', 'CASH')),
  status TEXT NOT NULL CHECK (status IN ('PENDING', 'CREDITED', 'REVOKED')),
  shard INTEGER NOT NULL CHECK (shard BETWEEN 0 AND 15),
  rewards BIGINT NOT NULL,
  value_high BIGINT NOT NULL,
  value_low BIGINT NOT NULL,
  PRIMARY KEY (unit, status, shard)
);
-- Every reward there is, staged for the ledger's backfill or not: the
-- backfill (ledger::complete_backfill) appends without counting.
INSERT INTO reward_counters (unit, status, shard, rewards, value_high, value_low)
  SELECT reward_unit, status, 0, COUNT(*), CAST(SUM(reward_value / 4294967296) AS BIGINT),
         CAST(SUM(reward_value % 4294967296) AS BIGINT)
  FROM rewards GROUP BY reward_unit, status;
