-- The two hot list pages read only their index. A user's reward history
-- carries every column of its rows in rewards_by_user; the referral list
-- finds referee_id and the referee's name in referrals_by_referrer. Neither
-- engine visits a table per row (SQLite: covering index; PostgreSQL:
-- index-only scan). The leading columns are unchanged: the keyset order
-- (created_at, id) still walks these indexes. Measured in docs/PERFORMANCE.md.
DROP INDEX rewards_by_user;
CREATE INDEX rewards_by_user ON rewards (user_id, created_at, id, referral_id, beneficiary, reward_type,
                                         reward_value, reward_unit, status, credited_at, revoked_at);

-- The referee's name, copied when the referral is made. Names never change
-- (the API has no rename), and the join to users it replaces was four fifths of
-- a list page at a million referrals: two B-tree descents per row into a
-- 1.1M-row table (docs/PERFORMANCE.md).
ALTER TABLE referrals ADD COLUMN referee_name TEXT NOT NULL DEFAULT '';
UPDATE referrals SET referee_name = COALESCE((SELECT u.name FROM users u WHERE u.id = referrals.referee_id), '');
DROP INDEX referrals_by_referrer;
CREATE INDEX referrals_by_referrer ON referrals (referrer_id, created_at, id, status, referee_id, referee_name);
