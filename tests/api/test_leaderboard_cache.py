"""The leaderboard cache (issue 17): `GET /api/admin/referral/top` answers from
an in-process copy of the top 100, at most LEADERBOARD_MAX_AGE old. A change
this instance commits (an apply, a status move) shows in its very next read;
another instance's shows within the max age, like replica lag. Every `limit`
is a prefix of the cached list, byte for byte what the query gives.

docs/ARCHITECTURE.md, "The leaderboard cache"; docs/API.md, Leaderboard.
"""

from __future__ import annotations

import random
import time

import pytest

import harness
import ledger_flows as lf
from checks import assert_error
from support.unit_tests import run_engine_suite
from test_analytics import insert_referrals, now_ms, referrer_without_login

LONG = "60s"  # far longer than any test: whatever changes, the copy stays
SHORT_S = 0.5
SLACK_S = 0.5  # a loaded machine's request and load times on top of the max age


def top(server, boss: lf.User, limit: int | None = 100) -> list[dict]:
    answer = lf.get(server, "/api/admin/referral/top", boss.headers, **({"limit": limit} if limit else {}))
    assert answer.status_code == 200, answer.text
    return answer.json()


def counts_of(board: list[dict], user_id: str) -> tuple[int, int] | None:
    """(successful, total) of the user's row, None when not listed."""
    rows = [row for row in board if row["user_id"] == user_id]
    return (rows[0]["successful_referrals"], rows[0]["total_referrals"]) if rows else None


def test_a_change_committed_here_shows_in_the_very_next_read(make_server):
    server = make_server(env=lf.env(LEADERBOARD_MAX_AGE=LONG))
    boss = lf.admin(server)
    lf.config(server, boss)
    referrer = lf.user(server)
    lf.refer(server, referrer)
    assert counts_of(top(server, boss), referrer.id) == (0, 1)
    # A change no request of this instance made (another instance's, here
    # written in SQL): the copy stays, so the cache is on.
    outsider = referrer_without_login(server)
    insert_referrals(server, outsider, [(now_ms(), "SUCCESS")] * 3)
    assert counts_of(top(server, boss), outsider) is None
    # An apply here: the very next read has it (and the outsider with it).
    _, referral_id = lf.refer(server, referrer)
    board = top(server, boss)
    assert counts_of(board, referrer.id) == (0, 2)
    assert counts_of(board, outsider) == (3, 3)
    # A status move here (crediting the reward makes the referral SUCCESS).
    assert lf.credit(server, boss, lf.reward_of(server, referral_id)["id"]).status_code == 200
    assert lf.referral_status(server, referral_id) == "SUCCESS"
    assert counts_of(top(server, boss), referrer.id) == (1, 2)
    # A failed apply commits nothing and changes nothing.
    assert_error(lf.apply(server, lf.user(server), "NO-SUCH-CODE"), 404, "invalid_code")
    assert counts_of(top(server, boss), referrer.id) == (1, 2)


def test_another_instance_shows_a_change_within_the_max_age(make_server):
    writer = make_server(env=lf.env())
    stale = make_server(env=lf.env(LEADERBOARD_MAX_AGE=LONG), database_url=writer.database_url)
    quick = make_server(env=lf.env(LEADERBOARD_MAX_AGE=f"{int(SHORT_S * 1000)}ms"),
                        database_url=writer.database_url)
    boss = lf.admin(writer)
    lf.config(writer, boss)
    referrer = lf.user(writer)
    lf.refer(writer, referrer)
    for reader in (stale, quick):
        assert counts_of(top(reader, boss), referrer.id) == (0, 1)
    lf.refer(writer, referrer)
    changed_at = time.monotonic()
    assert counts_of(top(writer, boss), referrer.id) == (0, 2)
    while counts_of(top(quick, boss), referrer.id) != (0, 2):
        assert time.monotonic() - changed_at < SHORT_S + SLACK_S, "the change did not show within the max age"
        time.sleep(0.02)
    # The other instance with a long max age still serves its copy.
    assert counts_of(top(stale, boss), referrer.id) == (0, 1)


def test_every_limit_is_a_prefix_of_the_cached_list_byte_for_byte(make_server):
    cached = make_server(env=lf.env())
    uncached = make_server(env=lf.env(LEADERBOARD_MAX_AGE="0"), database_url=cached.database_url)
    boss = lf.admin(cached)
    # 120 referrers, more than the cache holds, with many ties on both counts
    # (then ordered by user_id).
    chooser = random.Random(17)
    for _ in range(120):
        successful, pending = chooser.randint(0, 3), chooser.randint(0, 2)
        insert_referrals(server=cached, referrer_id=referrer_without_login(cached),
                         items=[(now_ms(), "SUCCESS")] * successful + [(now_ms(), "PENDING")] * pending
                         + [(now_ms(), "REJECTED")])
    for limit in (None, 1, 2, 3, 10, 37, 99, 100):
        params = {"limit": limit} if limit else {}
        mine = lf.get(cached, "/api/admin/referral/top", boss.headers, **params)
        queried = lf.get(uncached, "/api/admin/referral/top", boss.headers, **params)
        assert (mine.status_code, queried.status_code) == (200, 200)
        assert mine.content == queried.content, limit
        assert len(mine.json()) == (limit or 10)


def test_zero_turns_the_cache_off(make_server):
    server = make_server(env=lf.env(LEADERBOARD_MAX_AGE="0"))
    boss = lf.admin(server)
    first = referrer_without_login(server)
    insert_referrals(server, first, [(now_ms(), "PENDING")])
    assert counts_of(top(server, boss), first) == (0, 1)
    insert_referrals(server, first, [(now_ms(), "SUCCESS")])
    assert counts_of(top(server, boss), first) == (1, 2)


@pytest.mark.parametrize("value", ["61s", "2m", "-1", "1x", "soon", ""])
def test_a_bad_max_age_stops_startup_naming_it(tmp_path, value):
    done = harness.run_cli(["serve"], env={"DATABASE_URL": f"sqlite://{tmp_path}/x.db", "LEADERBOARD_MAX_AGE": value},
                           cwd=tmp_path)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "LEADERBOARD_MAX_AGE" in lines[0], lines
    assert "listening" not in done.stdout


def test_after_commit_store_tests_pass_on_this_engine(backend, databases):
    """db::after_commit, which moves the generation the cache compares
    (tests/unit/db_after_commit_test.cpp), against this engine."""
    run_engine_suite("AfterCommit", backend, databases)
