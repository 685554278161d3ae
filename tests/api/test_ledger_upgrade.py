"""Upgrading a database of the release before the ledger (migrations 0001 to
0011, rewards with their history rows): `referrald migrate` builds the chain
from them in a deterministic order and `referrald ledger verify` accepts it.
Both engines; the old schema is made here from the old migration files."""

from __future__ import annotations

import contextlib

import pytest

import harness
import invariants
from old_schema import statements

OLD_MIGRATIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0011")
DAY = 86_400_000
BASE = 1_780_000_000_000


def old_schema(url: str) -> None:
    engine = "sqlite" if url.startswith("sqlite://") else "postgresql"
    harness.query(url, "CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, "
                       "applied_at BIGINT NOT NULL)")
    for path in sorted((harness.REPO / "migrations").glob("*.sql")):
        if path.name[:4] not in OLD_MIGRATIONS:
            continue
        with contextlib.closing(harness.connect_db(url)) as conn:
            for statement in statements(path.read_text(encoding="utf-8"), engine):
                conn.cursor().execute(statement)  # no parameters: '%' in LIKE patterns stays as it is
        harness.query(url, "INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, 0)",
                      (int(path.name[:4]), path.name))


# reward id -> (beneficiary, status, created, credited, revoked, history rows (from, to, actor, reason, at))
REWARDS = {
    "r-pending": ("referrer", "PENDING", 1, None, None, [(None, "PENDING", "referee1", "SIGNUP reward created", 1)]),
    "r-credited": ("referee1", "CREDITED", 2, 2, None,
                   [(None, "PENDING", "referee1", "SIGNUP reward created", 2), ("PENDING", "CREDITED", None,
                                                                                "auto credit", 2)]),
    "r-clawback": ("referrer", "REVOKED", 3, 4, 5,
                   [(None, "PENDING", "referee2", "SIGNUP reward created", 3),
                    ("PENDING", "CREDITED", "admin", "credited by admin", 4),
                    ("CREDITED", "REVOKED", "admin", "chargeback, \"really\"", 5)]),
    "r-refused": ("referee2", "REVOKED", 3, None, 6,
                  [(None, "PENDING", "referee2", "SIGNUP reward created", 3),
                   ("PENDING", "REVOKED", "admin", "fraud", 6)]),
    # Imported by the old import-mongo: one row from nothing to its status.
    "r-imported": ("referrer", "CREDITED", 0, None, None, [(None, "CREDITED", None, "imported", 7)]),
}

EXPECTED_KINDS = {"r-pending": ["created"], "r-credited": ["created", "credited"],
                  "r-clawback": ["created", "credited", "revoked"], "r-refused": ["created", "revoked"],
                  "r-imported": ["created", "credited"]}


def old_data(url: str) -> None:
    for name in ("admin", "referrer", "referee1", "referee2"):
        harness.query(url, "INSERT INTO users (id, name, email, canonical_email, password_hash, is_verified, "
                           "is_admin, created_at) VALUES (%s, %s, %s, %s, 'x', 1, 0, %s)",
                      (name, name.title(), f"{name}@example.com", f"{name}@example.com", BASE))
    harness.query(url, "INSERT INTO referral_codes (id, user_id, code, uses, created_at) "
                       "VALUES ('code', 'referrer', 'ABCDEFGH', 2, %s)", (BASE,))
    for n, status in ((1, "SUCCESS"), (2, "REJECTED")):
        harness.query(url, "INSERT INTO referrals (id, referee_id, referrer_id, code_id, status, created_at, "
                           "updated_at, referee_name) VALUES (%s, %s, 'referrer', 'code', %s, %s, %s, %s)",
                      (f"ref{n}", f"referee{n}", status, BASE, BASE, f"Referee{n}"))
    harness.query(url, "INSERT INTO referrer_stats (user_id, total, successful, pending, rejected) "
                       "VALUES ('referrer', 2, 1, 0, 1)")
    for reward_id, (user, status, created, credited, revoked, history) in REWARDS.items():
        referral = "ref1" if reward_id in ("r-pending", "r-credited", "r-imported") else "ref2"
        harness.query(url, "INSERT INTO rewards (id, referral_id, user_id, beneficiary, reward_type, reward_value, "
                           "reward_unit, status, created_at, credited_at, revoked_at) "
                           "VALUES (%s, %s, %s, %s, %s, 100, 'POINTS', %s, %s, %s, %s)",
                      (reward_id, referral, user, "REFERRER" if user == "referrer" else "REFEREE",
                       "FIRST_ORDER" if reward_id == "r-imported" else "SIGNUP", status, BASE + created * DAY,
                       None if credited is None else BASE + credited * DAY,
                       None if revoked is None else BASE + revoked * DAY))
        for n, (before, after, actor, reason, at) in enumerate(history):
            harness.query(url, "INSERT INTO reward_events (id, reward_id, from_status, to_status, actor_id, reason, "
                               "at) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                          (f"{reward_id}-{n}", reward_id, before, after, actor, reason, BASE + at * DAY))


@pytest.fixture
def upgraded(databases, make_server):
    url = databases.new_url()
    old_schema(url)
    old_data(url)
    done = harness.run_cli(["migrate"], env={"DATABASE_URL": url})
    assert done.returncode == 0, done.stderr
    return url


def verify(url: str) -> harness.subprocess.CompletedProcess:
    return harness.run_cli(["ledger", "verify"], env={"DATABASE_URL": url})


def test_an_upgraded_database_verifies(upgraded):
    done = verify(upgraded)
    head = harness.query(upgraded, "SELECT seq, hash FROM ledger_head")[0]
    assert (done.returncode, done.stdout) == (0, f"ok {head[0]} {head[1]}\n"), done
    assert head[0] == sum(len(kinds) for kinds in EXPECTED_KINDS.values())
    assert harness.query(upgraded, "SELECT COUNT(*) FROM ledger_backfill") == [(0,)]


def test_the_chain_follows_each_rewards_history(upgraded):
    rows = harness.query(upgraded, "SELECT reward_id, kind, actor, reason, at FROM ledger_entries ORDER BY seq")
    kinds = {}
    for reward_id, kind, _, _, _ in rows:
        kinds.setdefault(reward_id, []).append(kind)
    assert kinds == EXPECTED_KINDS
    clawback = [row[1:] for row in rows if row[0] == "r-clawback"]
    assert clawback == [("created", "referee2", "SIGNUP reward created", BASE + 3 * DAY),
                        ("credited", "admin", "credited by admin", BASE + 4 * DAY),
                        ("revoked", "admin", 'chargeback, "really"', BASE + 5 * DAY)]
    # Auto credit had no actor: the system's now. The imported one had no creation row.
    assert [row[1:3] for row in rows if row[0] == "r-credited"] == [("created", "referee1"), ("credited", "system")]
    assert [row[1:4] for row in rows if row[0] == "r-imported"] == [
        ("created", "system", "recorded before the ledger"), ("credited", "system", "imported")]
    # Time order across rewards (the chain's order is deterministic).
    assert [row[4] for row in rows] == sorted(row[4] for row in rows)


def test_migrating_again_changes_nothing(upgraded):
    before = harness.query(upgraded, "SELECT seq, hash FROM ledger_head")
    assert harness.run_cli(["migrate"], env={"DATABASE_URL": upgraded}).returncode == 0
    assert harness.query(upgraded, "SELECT seq, hash FROM ledger_head") == before


def test_the_upgraded_database_serves_and_keeps_verifying(upgraded, make_server):
    server = make_server(env={"RATE_LIMIT_PER_IP": "0"}, database_url=upgraded)
    invariants.ledger_chain_verifies(server)
    invariants.reward_counters_match_rewards(server)  # counted by 0019, not again by the backfill
    history = server.query("SELECT from_status, to_status, actor_id FROM reward_events WHERE reward_id = 'r-clawback' "
                           "ORDER BY at")
    assert history == [(None, "PENDING", "referee2"), ("PENDING", "CREDITED", "admin"),
                       ("CREDITED", "REVOKED", "admin")]
    assert verify(upgraded).returncode == 0
