-- The two hot list pages read only their index. A user's reward history
-- carries every column of its rows in rewards_by_user, and the referral list
-- finds referee_id in referrals_by_referrer, so neither engine visits the
-- table per row (SQLite: covering index; PostgreSQL: index-only scan). The
-- leading columns are unchanged: the keyset order (created_at, id) still
-- walks these indexes. Measured in docs/PERFORMANCE.md.
DROP INDEX rewards_by_user;
CREATE INDEX rewards_by_user ON rewards (user_id, created_at, id, referral_id, beneficiary, reward_type,
                                         reward_value, reward_unit, status, credited_at, revoked_at);
DROP INDEX referrals_by_referrer;
CREATE INDEX referrals_by_referrer ON referrals (referrer_id, created_at, id, status, referee_id);
