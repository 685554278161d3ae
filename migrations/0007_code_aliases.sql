-- Further codes of a user, each leading to the user's one code. The
-- original's generate could race and give a user two codes; it showed and
-- used the oldest, but people shared the others too. The import keeps the
-- oldest in referral_codes (still one code per user) and the others here,
-- so every code ever handed out still applies, for its owner.
-- id: the original document's _id; code: the text, unique across both
-- tables (the server checks this table before it hands out a new code).
CREATE TABLE referral_code_aliases (
  id TEXT PRIMARY KEY,
  code TEXT NOT NULL UNIQUE,
  code_id TEXT NOT NULL REFERENCES referral_codes (id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL
);
CREATE INDEX referral_code_aliases_by_code_id ON referral_code_aliases (code_id);
