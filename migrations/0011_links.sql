-- Share links (src/link/). Clicks arrive as a stream: the flusher writes a
-- batch of raw rows and the counters they add to in one transaction.

-- One row per counted click. No raw IP: visitor_hash is keyed with a key
-- that changes every UTC day. Purged after CLICK_RETENTION; counters stay.
CREATE TABLE link_clicks (
  id TEXT PRIMARY KEY,
  code_id TEXT NOT NULL REFERENCES referral_codes (id) ON DELETE CASCADE,
  at BIGINT NOT NULL,
  visitor_hash TEXT NOT NULL,
  agent_family TEXT NOT NULL CHECK (agent_family IN ('browser', 'bot', 'other')),
  referrer_host TEXT NOT NULL DEFAULT '',
  is_unique INTEGER NOT NULL CHECK (is_unique IN (0, 1))
);
CREATE INDEX link_clicks_by_code ON link_clicks (code_id, at);
CREATE INDEX link_clicks_by_time ON link_clicks (at);

-- First click of a visitor on a code on a UTC day: the insert that wins
-- decides `is_unique`, on every instance sharing the database. Rows older
-- than yesterday are useless (the day's key is gone) and purged.
CREATE TABLE link_visitors (
  code_id TEXT NOT NULL,
  day BIGINT NOT NULL,
  visitor_hash TEXT NOT NULL,
  PRIMARY KEY (code_id, day, visitor_hash)
);
CREATE INDEX link_visitors_by_day ON link_visitors (day);

-- Counters per (code, quarter hour): every UTC offset is a whole number of
-- quarter hours, so any time zone's days are exact sums of buckets.
CREATE TABLE link_counters (
  code_id TEXT NOT NULL REFERENCES referral_codes (id) ON DELETE CASCADE,
  bucket_at BIGINT NOT NULL,
  clicks BIGINT NOT NULL DEFAULT 0,
  unique_visitors BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (code_id, bucket_at)
);
-- Top referrers of a range: the range of this index, grouped by code.
CREATE INDEX link_counters_by_time ON link_counters (bucket_at, code_id, clicks, unique_visitors);

-- The same counters over every code (the admin funnel) and per code over
-- all time (the summary's `clicks`).
CREATE TABLE link_counters_all (
  bucket_at BIGINT PRIMARY KEY,
  clicks BIGINT NOT NULL DEFAULT 0,
  unique_visitors BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE link_totals (
  code_id TEXT PRIMARY KEY REFERENCES referral_codes (id) ON DELETE CASCADE,
  clicks BIGINT NOT NULL DEFAULT 0,
  unique_visitors BIGINT NOT NULL DEFAULT 0
);

-- A signup attributed to a code (explicit referral_code or the `referral`
-- cookie), written in the signup's transaction; click_id is the click the
-- cookie came from (no foreign key: clicks are purged, and a click may still
-- be in the buffer when the signup commits).
CREATE TABLE link_attributions (
  user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  code_id TEXT NOT NULL REFERENCES referral_codes (id) ON DELETE CASCADE,
  click_id TEXT,
  source TEXT NOT NULL CHECK (source IN ('code', 'cookie')),
  created_at BIGINT NOT NULL
);
CREATE INDEX link_attributions_by_code ON link_attributions (code_id, created_at);
CREATE INDEX link_attributions_by_time ON link_attributions (created_at);

-- The admin funnel counts every referral made in a range: one range of this
-- index (status in it, so neither engine visits the table).
CREATE INDEX referrals_by_time ON referrals (created_at, status);
