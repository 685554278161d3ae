"""Every enumerated column is held to its values by the database itself
(CHECK constraints, on PostgreSQL a domain per column for those the write
paths store (migration 0027), triggers on SQLite where a CHECK could not be
added (0015, 0025)), so a bug or a hand-written UPDATE cannot store a status
the code does not know."""

from __future__ import annotations

import pytest

import invariants
import ledger_flows as lf


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from lf.module_server(databases, tmp_path_factory)


# (a statement that breaks one rule, the table it names, a query whose answer must not change)
REFUSED = (
    ("UPDATE referrals SET status = 'PAID'", "referrals", "SELECT status FROM referrals ORDER BY id"),
    ("UPDATE referrals SET is_flagged = 2", "referrals", "SELECT is_flagged FROM referrals ORDER BY id"),
    ("UPDATE outbox SET status = 'lost'", "outbox", "SELECT status FROM outbox ORDER BY id"),
    ("UPDATE idempotency_keys SET state = 'maybe'", "idempotency_keys",
     "SELECT state FROM idempotency_keys ORDER BY idem_key"),
    ("UPDATE otps SET purpose = 'login'", "otps", "SELECT purpose FROM otps ORDER BY user_id"),
    ("UPDATE code_requests SET purpose = 'login'", "code_requests",
     "SELECT purpose FROM code_requests ORDER BY email"),
    ("UPDATE users SET is_admin = 5", "users", "SELECT is_admin FROM users ORDER BY id"),
    ("UPDATE users SET is_verified = -1", "users", "SELECT is_verified FROM users ORDER BY id"),
)


REFERRAL_COUNTERS = "SELECT name, shard, value FROM referral_counters ORDER BY 1, 2"
REWARD_COUNTERS = "SELECT unit, status, shard, rewards FROM reward_counters ORDER BY 1, 2, 3"

# The columns PostgreSQL holds by a domain (0027), refused on both engines:
# (a statement that breaks one rule, a query whose answer must not change)
DOMAIN_REFUSED = (
    ("UPDATE rewards SET status = 'PAID'", "SELECT status FROM rewards ORDER BY id"),
    ("UPDATE rewards SET beneficiary = 'SELF'", "SELECT beneficiary FROM rewards ORDER BY id"),
    ("UPDATE rewards SET reward_type = 'BONUS'", "SELECT reward_type FROM rewards ORDER BY id"),
    ("UPDATE rewards SET reward_unit = 'EUR'", "SELECT reward_unit FROM rewards ORDER BY id"),
    ("UPDATE rewards SET reward_value = -1", "SELECT reward_value FROM rewards ORDER BY id"),
    ("UPDATE domain_events SET type = 'user.deleted'", "SELECT type FROM domain_events ORDER BY seq"),
    ("INSERT INTO ledger_entries (seq, kind, reward_id, user_id, amount, unit, actor, reason, at, prev_hash, hash) "
     "SELECT seq + 1000000, 'paid', reward_id, user_id, amount, unit, actor, reason, at, prev_hash, hash "
     "FROM ledger_entries LIMIT 1", "SELECT COUNT(*), MAX(seq) FROM ledger_entries"),
    ("UPDATE ledger_head SET id = 2", "SELECT id, seq, hash FROM ledger_head"),
    ("UPDATE referral_counters SET name = 'PAID'", REFERRAL_COUNTERS),
    ("UPDATE referral_counters SET shard = shard + 16", REFERRAL_COUNTERS),
    ("UPDATE reward_counters SET status = 'PAID'", REWARD_COUNTERS),
    ("UPDATE reward_counters SET unit = 'EUR'", REWARD_COUNTERS),
    ("UPDATE reward_counters SET shard = -1", REWARD_COUNTERS),
)


@pytest.fixture(scope="module")
def rows(server):
    """One row in each checked table, made through the API."""
    lf.config(server, lf.admin(server), "SIGNUP", 100)
    referrer = lf.user(server)
    lf.refer(server, referrer, **{"Idempotency-Key": "schema-checks"})
    for table in ("referrals", "outbox", "idempotency_keys", "otps", "code_requests", "users", "rewards",
                  "domain_events", "ledger_entries", "referral_counters", "reward_counters"):
        assert server.query(f"SELECT COUNT(*) FROM {table}")[0][0] > 0, table


@pytest.mark.parametrize("statement, table, readback", REFUSED, ids=[case[0] for case in REFUSED])
def test_an_unknown_value_is_refused_and_changes_nothing(server, rows, statement, table, readback):
    before = server.query(readback)
    with pytest.raises(Exception) as refused:
        server.query(statement)
    assert table in str(refused.value), refused.value
    assert server.query(readback) == before


@pytest.mark.parametrize("statement, readback", DOMAIN_REFUSED, ids=[case[0][:60] for case in DOMAIN_REFUSED])
def test_a_value_outside_a_write_path_column_is_refused_and_changes_nothing(server, rows, statement, readback):
    before = server.query(readback)
    with pytest.raises(Exception) as refused:
        server.query(statement)
    assert "check constraint" in str(refused.value).lower(), refused.value
    assert server.query(readback) == before


def test_a_referral_inserted_with_an_unknown_status_is_refused(server, rows):
    copy = ("INSERT INTO referrals (id, referee_id, referrer_id, code_id, status, created_at, updated_at) "
            "SELECT 'copy', referrer_id, referee_id, code_id, 'WON', created_at, updated_at FROM referrals "
            "WHERE referrer_id <> referee_id LIMIT 1")
    with pytest.raises(Exception) as refused:
        server.query(copy)
    assert "referrals" in str(refused.value), refused.value
    assert server.query("SELECT COUNT(*) FROM referrals WHERE id = 'copy'") == [(0,)]
    invariants.check_all(server)
