"""Counters kept with the rows they count (issue 17): admin stats and the
outbox_depth gauge read them instead of counting rows per call, each domain
changes its own counter table in the transaction that changes its rows,
and migration 0018 starts them from the rows already there."""

from __future__ import annotations

import re
import time

import requests

import flows
from auth_checks import UNLIMITED
import invariants
import ledger_flows as lf

COUNTER_TABLES = ("user_counters", "referral_counters", "outbox_counters")


def stats(server, boss) -> dict:
    answer = lf.get(server, "/api/admin/stats", boss.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def metric(server, name: str) -> float:
    text = requests.get(server.url("/metrics"), timeout=30).text
    match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} missing from /metrics"
    return float(match.group(1))


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
    after = stats(server, boss)
    assert after["users"]["total"] == 1006
    assert after["referrals"]["by_status"]["PENDING"] == 8
    assert after["referrals"]["total"] == 10


def test_outbox_depth_comes_from_the_counter(make_server):
    server = make_server(env=lf.env())
    email = flows.new_email("depth")
    assert flows.signup(server, email).status_code == 201
    deadline = time.monotonic() + 20
    while server.query("SELECT status FROM outbox WHERE recipient = %s", (email,)) != [("sent",)]:
        assert time.monotonic() < deadline, "the signup's mail was not sent"
        time.sleep(0.05)
    invariants.counters_match_rows(server)
    assert metric(server, "outbox_depth") == 0
    server.query("INSERT INTO outbox_counters (name, shard, value) VALUES ('depth', 15, 40) "
                 "ON CONFLICT (name, shard) DO UPDATE SET value = outbox_counters.value + 40")
    assert metric(server, "outbox_depth") == 40


def test_migration_starts_the_counters_from_existing_rows(make_server):
    # Rows written before 0018 existed: drop its tables and its record, so the
    # next start runs it over rows the counters never saw.
    server = make_server(env=lf.env())
    boss = some_rows(server)
    expected = stats(server, boss)
    assert server.stop() == 0
    for table in COUNTER_TABLES:
        server.query(f"DROP TABLE {table}")
    server.query("DELETE FROM schema_migrations WHERE version = 18")
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
