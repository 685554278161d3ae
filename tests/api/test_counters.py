"""Counters kept with the rows they count (issue 17): admin stats and the
outbox_depth gauge read them instead of counting rows per call, each domain
changes its own counter table in the transaction that changes its rows,
and migrations 0018 and 0019 start them from the rows already there.
Rewards are counted per unit and status by the ledger's append."""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
import time

import pytest
import requests

import flows
import harness
from auth_checks import UNLIMITED
import invariants
import ledger_flows as lf
from test_races import storm

COUNTER_TABLES = ("user_counters", "referral_counters", "outbox_counters")
# A hold day lasts a second and the timer looks every 100 ms; one code takes
# any number of referees per hour (no burst flag holds rewards for review).
FLOW_ENV = {"REWARD_HOLD_DAY": "1s", "REWARD_TIMER_INTERVAL": "100ms", "REFERRAL_MAX_USES_PER_HOUR": "0"}


def stats(server, boss) -> dict:
    answer = lf.get(server, "/api/admin/stats", boss.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def some_rows(server) -> lf.User:
    """An admin, a config, referrals in every status, an unverified signup."""
    boss = lf.admin(server)
    lf.config(server, boss, "SIGNUP", 100)
    referrer = lf.user(server)
    referrals = [lf.refer(server, referrer)[1] for _ in range(3)]
    assert lf.credit(server, boss, lf.reward_of(server, referrals[0])["id"]).status_code == 200
    assert lf.revoke(server, boss, lf.reward_of(server, referrals[1])["id"], "test").status_code == 200
    assert flows.signup(server, flows.new_email("unverified")).status_code == 201
    return boss


def rewards_by_rows(server) -> dict:
    """The stats' rewards.by_unit, computed here from the reward rows."""
    counted = {unit: {status: {"count": 0, "value": 0} for status in ("PENDING", "CREDITED", "REVOKED")}
               for unit in ("POINTS", "CASH")}
    for unit, status, value in server.query("SELECT reward_unit, status, reward_value FROM rewards"):
        counted[unit][status]["count"] += 1
        counted[unit][status]["value"] += value
    return counted


def assert_stats_match_rewards(server, boss) -> None:
    invariants.counters_match_rows(server)
    assert stats(server, boss)["rewards"]["by_unit"] == rewards_by_rows(server)
    done = flows.cli(server, "ledger", "verify")
    assert done.returncode == 0, done.stdout + done.stderr


def wait_until_credited(server, reward_type: str, unit: str) -> None:
    deadline = time.monotonic() + 20
    while server.query("SELECT COUNT(*) FROM rewards WHERE reward_type = %s AND reward_unit = %s "
                       "AND status = 'PENDING'", (reward_type, unit))[0][0]:
        assert time.monotonic() < deadline, f"the hold timer left {reward_type} {unit} rewards pending"
        time.sleep(0.05)


def purchase(server, boss, referee) -> requests.Response:
    return lf.post(server, "/api/admin/events", boss.headers,
                   {"type": "PURCHASE", "external_id": flows.new_email("order"), "user_id": referee.id})


def test_reward_stats_follow_every_way_a_reward_is_made_or_moved(make_server):
    server = make_server(env={**lf.env(), **FLOW_ENV})
    boss = lf.admin(server)
    lf.config(server, boss, "SIGNUP", 100)  # credited and revoked by hand
    lf.config(server, boss, "SIGNUP", 7, "CASH", beneficiary="REFEREE", auto_credit=True, hold_days=1)  # timer
    lf.config(server, boss, "PURCHASE", 70, "CASH", budget=140)  # the third does not fit
    lf.config(server, boss, "PURCHASE", 3, "POINTS", beneficiary="REFEREE", auto_credit=True)  # at once
    assert lf.post(server, "/api/admin/milestones", boss.headers,
                   {"successful_referrals": 2, "reward_value": 1000, "reward_unit": "POINTS"}).status_code == 201
    referrer = lf.user(server)
    made = [lf.refer(server, referrer) for _ in range(3)]
    signup = [lf.reward_of(server, referral_id)["id"] for _, referral_id in made]
    assert_stats_match_rewards(server, boss)
    for reward_id in signup[:2]:  # the second success reaches the milestone
        assert lf.credit(server, boss, reward_id).status_code == 200
    assert lf.revoke(server, boss, signup[2]).status_code == 200  # from PENDING
    assert lf.revoke(server, boss, signup[0]).status_code == 200  # from CREDITED
    assert_stats_match_rewards(server, boss)
    for _ in range(3):
        assert purchase(server, boss, made[0][0]).status_code == 201
    purchased = server.query("SELECT id FROM rewards WHERE reward_type = 'PURCHASE' AND reward_unit = 'CASH'")
    assert len(purchased) == 2
    assert lf.revoke(server, boss, purchased[0][0]).status_code == 200  # gives its budget back
    wait_until_credited(server, "SIGNUP", "CASH")
    assert stats(server, boss)["rewards"]["by_unit"] == {
        "POINTS": {"PENDING": {"count": 1, "value": 1000},  # the milestone's
                   "CREDITED": {"count": 4, "value": 109},  # a SIGNUP, three PURCHASE made credited
                   "REVOKED": {"count": 2, "value": 200}},
        "CASH": {"PENDING": {"count": 1, "value": 70},  # a PURCHASE
                 "CREDITED": {"count": 3, "value": 21},  # the held SIGNUP ones, by the timer
                 "REVOKED": {"count": 1, "value": 70}}}
    assert_stats_match_rewards(server, boss)


def test_racing_credits_revokes_and_applies_keep_the_reward_counters_exact(make_server):
    server = make_server(env={**lf.env(), **FLOW_ENV})
    boss = lf.admin(server)
    lf.config(server, boss, "SIGNUP", 100)
    lf.config(server, boss, "SIGNUP", 5, "CASH", beneficiary="REFEREE", auto_credit=True)
    assert lf.post(server, "/api/admin/milestones", boss.headers,
                   {"successful_referrals": 3, "reward_value": 50, "reward_unit": "CASH"}).status_code == 201
    referrers = [lf.user(server) for _ in range(5)]
    reward_ids = [lf.reward_of(server, lf.refer(server, referrers[n % 5])[1])["id"] for n in range(20)]
    codes = [lf.code_of(server, referrer) for referrer in referrers]
    referees = [lf.user(server) for _ in range(10)]
    # 50 at once: each reward credited and revoked by two racing calls, and
    # ten new referrals whose rewards are made (and credited) meanwhile.
    calls = [lambda r=r: lf.credit(server, boss, r) for r in reward_ids]
    calls += [lambda r=r: lf.revoke(server, boss, r) for r in reward_ids]
    calls += [lambda n=n: lf.apply(server, referees[n], codes[n % 5]) for n in range(10)]
    answers = storm(calls)
    assert all(answer.status_code in (200, 409) for answer in answers), [a.text for a in answers]
    assert_stats_match_rewards(server, boss)


def test_ledger_verify_finds_reward_counters_that_differ_from_the_rewards(make_server):
    server = make_server(env=lf.env())
    some_rows(server)
    assert flows.cli(server, "ledger", "verify").returncode == 0
    head = server.query("SELECT seq FROM ledger_head")[0][0]
    # The value alone, by one: the count still agrees.
    server.query("UPDATE reward_counters SET value_low = value_low + 1 "
                 "WHERE unit = 'POINTS' AND status = 'REVOKED' AND rewards > 0")
    done = flows.cli(server, "ledger", "verify")
    assert done.returncode == 1, done
    assert done.stdout.startswith(f"broken {head}: reward_counters of REVOKED POINTS"), done.stdout
    with pytest.raises(AssertionError, match="reward_counters minus the rewards"):
        invariants.counters_match_rows(server)


def test_reward_counters_refuse_unknown_units_statuses_and_shards(make_server):
    server = make_server(env=lf.env())
    for unit, status, shard in (("EUR", "PENDING", 0), ("POINTS", "PAID", 0), ("POINTS", "PENDING", 16)):
        with pytest.raises(Exception) as refused:
            server.query("INSERT INTO reward_counters (unit, status, shard, rewards, value_high, value_low) "
                         "VALUES (%s, %s, %s, 1, 0, 1)", (unit, status, shard))
        assert "check" in str(refused.value).lower(), refused.value


def test_stats_come_from_the_counters(make_server):
    server = make_server(env=lf.env())
    boss = some_rows(server)
    invariants.counters_match_rows(server)
    before = stats(server, boss)
    assert before["users"] == {"total": 6, "verified": 5}
    assert before["referrals"]["by_status"] == {"PENDING": 1, "SUCCESS": 1, "REJECTED": 1}
    # A shard added by hand shows: the answer is the counters' sum, not a COUNT(*).
    server.query("INSERT INTO user_counters (name, shard, value) VALUES ('users', 15, 1000) "
                 "ON CONFLICT (name, shard) DO UPDATE SET value = user_counters.value + 1000")
    server.query("INSERT INTO referral_counters (name, shard, value) VALUES ('PENDING', 15, 7) "
                 "ON CONFLICT (name, shard) DO UPDATE SET value = referral_counters.value + 7")
    server.query("INSERT INTO reward_counters (unit, status, shard, rewards, value_high, value_low) "
                 "VALUES ('CASH', 'REVOKED', 15, 2, 1, 5)")
    after = stats(server, boss)
    assert after["users"]["total"] == 1006
    assert after["referrals"]["by_status"]["PENDING"] == 8
    assert after["referrals"]["total"] == 10
    assert after["rewards"]["by_unit"]["CASH"]["REVOKED"] == {"count": 2, "value": 2**32 + 5}


# One transaction moving a referral counter and a reward counter together,
# as an apply does (+1) or its undoing (-1), written straight to the tables.
def move_both_counters(conn, step: int) -> None:
    cursor = conn.cursor()
    cursor.execute("BEGIN")
    move_both_counters_in(cursor, step)
    cursor.execute("COMMIT")


def move_both_counters_in(cursor, step: int) -> None:
    cursor.execute(f"UPDATE referral_counters SET value = value + {step} WHERE name = 'PENDING' "
                   "AND shard = (SELECT MIN(shard) FROM referral_counters WHERE name = 'PENDING')")
    cursor.execute(f"UPDATE reward_counters SET rewards = rewards + {step} WHERE unit = 'POINTS' "
                   "AND status = 'PENDING' AND shard = (SELECT MIN(shard) FROM reward_counters "
                   "WHERE unit = 'POINTS' AND status = 'PENDING')")


def test_stats_read_the_counters_from_one_snapshot(make_server):
    server = make_server(env=lf.env())
    boss = some_rows(server)
    first = stats(server, boss)
    gap = first["referrals"]["total"] - first["rewards"]["total"]
    stop = threading.Event()
    moves = 0

    def write() -> None:
        nonlocal moves
        with contextlib.closing(harness.connect_db(server.database_url)) as conn:
            while not stop.is_set():
                move_both_counters(conn, 1)
                move_both_counters(conn, -1)
                moves += 2

    writer = threading.Thread(target=write)
    writer.start()
    try:
        torn = []
        for _ in range(300):
            seen = stats(server, boss)
            if seen["referrals"]["total"] - seen["rewards"]["total"] != gap:
                torn.append(seen)
    finally:
        stop.set()
        writer.join()
    assert moves >= 100, f"only {moves} transactions raced the reads"
    assert not torn, f"{len(torn)} of 300 answers mixed two snapshots, e.g. {torn[0]}"
    invariants.counters_match_rows(server)  # every move was undone


def test_stats_wait_for_a_writer_then_read_one_snapshot(postgresql_only, make_server):
    """The race above made certain on PostgreSQL: a writer holding
    reward_counters makes the stats read wait, then moves a referral counter
    and a reward counter and commits. Read a table at a time, the referrals
    (read before the wait) and the rewards (after it) would come from two
    snapshots; one statement takes its snapshot once every table is locked."""
    server = make_server(env=lf.env())
    boss = some_rows(server)
    first = stats(server, boss)
    with contextlib.closing(harness.connect_db(server.database_url)) as conn, \
            concurrent.futures.ThreadPoolExecutor(1) as pool:
        cursor = conn.cursor()
        cursor.execute("BEGIN")
        cursor.execute("LOCK TABLE reward_counters IN ACCESS EXCLUSIVE MODE")
        answer = pool.submit(stats, server, boss)
        wait_until_a_read_waits_on(server, "reward_counters")
        move_both_counters_in(cursor, 1)
        cursor.execute("COMMIT")
        seen = answer.result(timeout=10)
        move_both_counters(conn, -1)
    assert seen["referrals"]["total"] == first["referrals"]["total"] + 1, (first, seen)
    assert seen["rewards"]["total"] == first["rewards"]["total"] + 1, (first, seen)
    invariants.counters_match_rows(server)


def wait_until_a_read_waits_on(server, table: str) -> None:
    """Until a SELECT (the stats read, not a background worker's write) waits
    for a lock on `table` in this test's database."""
    deadline = time.monotonic() + 10
    while not server.query("SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                           "JOIN pg_stat_activity a ON a.pid = l.pid "
                           "WHERE c.relname = %s AND NOT l.granted AND a.query LIKE 'SELECT%%' "
                           "AND a.datname = current_database()", (table,)):
        assert time.monotonic() < deadline, f"no read waited on {table}"
        time.sleep(0.01)


def test_outbox_depth_comes_from_the_counter(make_server):
    server = make_server(env=lf.env())
    email = flows.new_email("depth")
    assert flows.signup(server, email).status_code == 201
    deadline = time.monotonic() + 20
    while server.query("SELECT status FROM outbox WHERE recipient = %s", (email,)) != [("sent",)]:
        assert time.monotonic() < deadline, "the signup's mail was not sent"
        time.sleep(0.05)
    invariants.counters_match_rows(server)
    assert server.metric("outbox_depth") == 0
    server.query("INSERT INTO outbox_counters (name, shard, value) VALUES ('depth', 15, 40) "
                 "ON CONFLICT (name, shard) DO UPDATE SET value = outbox_counters.value + 40")
    assert server.metric("outbox_depth") == 40


@pytest.mark.parametrize("version, tables", [(18, COUNTER_TABLES), (19, ("reward_counters",))])
def test_migration_starts_the_counters_from_existing_rows(make_server, version, tables):
    # Rows written before the migration: drop its tables and its record, so
    # the next start runs it over rows the counters never saw.
    server = make_server(env=lf.env())
    boss = some_rows(server)
    expected = stats(server, boss)
    assert expected["rewards"]["by_status"] == {"PENDING": 1, "CREDITED": 1, "REVOKED": 1}
    assert server.stop() == 0
    for table in tables:
        server.query(f"DROP TABLE {table}")
    server.query("DELETE FROM schema_migrations WHERE version = %s", (version,))
    server = make_server(env=lf.env(), database_url=server.database_url)
    invariants.counters_match_rows(server)
    assert stats(server, boss) == expected


def test_a_replaced_unverified_signup_and_its_verification_count_once(make_server):
    server = make_server(env={**lf.env(), **UNLIMITED, "OTP_RESEND_COOLDOWN": "0s"})
    email = flows.new_email("again")
    for _ in range(2):  # the second signup replaces the first, unverified one
        assert flows.signup(server, email).status_code == 201
    invariants.counters_match_rows(server)
    flows.register(server)  # signs up and verifies another
    invariants.counters_match_rows(server)
    assert dict(server.query("SELECT name, CAST(SUM(value) AS BIGINT) FROM user_counters GROUP BY name")) == {
        "users": 2, "verified": 1}
