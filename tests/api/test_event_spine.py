"""The event spine (src/events/): domain_events written in the transaction of
the change, consumers with cursors. docs/ARCHITECTURE.md, "The event spine"."""

from __future__ import annotations

import itertools
import json
import re

import pytest
import requests

import auth_checks
import flows
import ledger_flows as lf
from checks import assert_error
from support.unit_tests import run_engine_suite

EVENT_ID = re.compile(r"evt_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_event_log_store_tests_pass_on_this_engine(backend, databases):
    """The store-level tests of tests/unit/events_log_test.cpp, among them two
    transactions committing out of seq order, need a PostgreSQL to show the
    PostgreSQL half: run them here against a fresh database of this engine."""
    run_engine_suite("EventLog", backend, databases)


def insert_event(server, aggregate_id: str) -> int:
    server.query("INSERT INTO domain_events (id, type, aggregate_id, data_json, created_at)"
                 " VALUES (%s, 'referral.created', %s, '{}', 0)", (f"evt_{aggregate_id}", aggregate_id))
    return server.query("SELECT seq FROM domain_events WHERE aggregate_id = %s", (aggregate_id,))[0][0]


def test_metrics_show_each_consumers_backlog(make_server):
    server = make_server()
    first = insert_event(server, "metrics-a")
    insert_event(server, "metrics-b")
    last = insert_event(server, "metrics-c")
    server.query("INSERT INTO event_cursors (consumer, last_xid, last_seq) VALUES ('behind', 0, %s)", (first,))
    server.query("INSERT INTO event_cursors (consumer, last_xid, last_seq) VALUES ('current', 0, %s)", (last,))
    text = requests.get(server.url("/metrics"), timeout=10).text
    assert "# TYPE referrald_events_backlog gauge" in text
    assert 'referrald_events_backlog{consumer="behind"} 2\n' in text
    assert 'referrald_events_backlog{consumer="current"} 0\n' in text


# --------------------------------------------------------------------------
# What the domains publish, in the transaction of the change.

@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from lf.module_server(databases, tmp_path_factory, TRUSTED_PROXIES="127.0.0.1",
                                REFERRAL_FLAG_SAME_IP="true")


@pytest.fixture(scope="module")
def boss(server):
    boss = lf.admin(server)
    lf.config(server, boss, auto_credit=True)
    return boss


_hosts = itertools.count(1)


def new_ip() -> dict:
    number = next(_hosts)
    return {"X-Forwarded-For": f"10.20.{number}.9"}


def events_of(server, aggregate_id: str) -> list[tuple[str, dict]]:
    """(type, data) of the aggregate's events in seq order."""
    rows = server.query("SELECT type, data_json, id FROM domain_events WHERE aggregate_id = %s ORDER BY seq",
                        (aggregate_id,))
    for _, _, event_id in rows:
        assert EVENT_ID.fullmatch(event_id), event_id
    return [(kind, json.loads(data)) for kind, data, _ in rows]


def count_events(server, prefix: str) -> int:
    return server.query("SELECT COUNT(*) FROM domain_events WHERE type LIKE %s", (prefix + "%",))[0][0]


def session_user(server, headers: dict) -> dict:
    answer = requests.post(server.url("/api/auth/verify-session"), headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["user"]


def test_verifying_an_email_publishes_user_verified_with_the_user(server):
    email, headers = flows.new_user(server)
    uid = flows.user_id(server, email)
    user = session_user(server, headers)
    assert user["is_verified"] is True
    assert events_of(server, uid) == [("user.verified", user)]


def test_a_wrong_code_publishes_nothing_and_the_right_one_once(server):
    email = flows.new_email()
    assert flows.signup(server, email).status_code == 201
    code = flows.latest_code(server, email)
    uid = flows.user_id(server, email)
    wrong = flows.verify(server, email, "000000" if code != "000000" else "111111")
    assert_error(wrong, 400, "invalid_otp")
    assert events_of(server, uid) == []
    assert flows.verify(server, email, code).status_code == 200
    assert [kind for kind, _ in events_of(server, uid)] == ["user.verified"]
    again = flows.verify(server, email, code)  # already verified: refused, nothing new
    assert_error(again, 400, "invalid_otp")
    assert [kind for kind, _ in events_of(server, uid)] == ["user.verified"]


def test_an_admin_created_on_the_command_line_is_published_verified(server):
    email = flows.new_email("cli-admin")
    done = flows.cli(server, "users", "create-admin", "--email", email, "--name", "Cli Admin", "--password-stdin",
                     stdin=flows.PASSWORD)
    assert done.returncode == 0, done.stderr
    uid = flows.user_id(server, email)
    user = session_user(server, flows.bearer(flows.token_for(server, email)))
    assert events_of(server, uid) == [("user.verified", user)]
    promoted = flows.cli(server, "users", "create-admin", "--email", email, "--name", "Cli Admin",
                         "--password-stdin", stdin=flows.PASSWORD)  # already verified: promoted, no event
    assert promoted.returncode == 0, promoted.stderr
    assert len(events_of(server, uid)) == 1


def admin_view(server, boss, referral_id: str) -> dict:
    """The referral as GET /api/admin/referrals/flagged shows it (flagged ones only)."""
    for page in lf.all_pages(server, "/api/admin/referrals/flagged", boss.headers, limit=50):
        for item in page:
            if item["referral_id"] == referral_id:
                return item
    raise AssertionError(f"{referral_id} not in the flagged list")


def test_applying_a_code_publishes_created_then_the_auto_credit_status_change(server, boss):
    referrer = lf.user(server, ip=new_ip()["X-Forwarded-For"])
    referee = lf.user(server)
    answer = lf.apply(server, referee, lf.code_of(server, referrer), **new_ip())
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "SUCCESS"  # auto-credited in the same transaction
    referral_id = answer.json()["referral_id"]
    published = events_of(server, referral_id)
    assert [kind for kind, _ in published] == ["referral.created", "referral.status_changed"]
    created, changed = published[0][1], published[1][1]
    row = server.query("SELECT ip, created_at FROM referrals WHERE id = %s", (referral_id,))[0]
    expected = {"referral_id": referral_id, "referrer_id": referrer.id, "referrer_email": referrer.email,
                "referee_id": referee.id, "referee_email": referee.email, "status": "PENDING",
                "ip": row[0], "created_at": auth_checks.iso(row[1]), "flags": []}
    assert created == expected
    assert changed == {**expected, "status": "SUCCESS"}


def test_a_flagged_referral_publishes_flagged_and_a_revoke_its_status_change(server, boss):
    ip = new_ip()
    referrer = lf.user(server, ip=ip["X-Forwarded-For"])
    referee = lf.user(server)
    answer = lf.apply(server, referee, lf.code_of(server, referrer), **ip)  # same IP as the referrer
    assert answer.status_code == 200, answer.text
    referral_id = answer.json()["referral_id"]
    view = admin_view(server, boss, referral_id)
    assert view["flags"] and view["status"] == "PENDING"
    assert events_of(server, referral_id) == [("referral.created", view), ("referral.flagged", view)]
    reward = lf.reward_of(server, referral_id)
    assert lf.revoke(server, boss, reward["id"]).status_code == 200
    assert lf.referral_status(server, referral_id) == "REJECTED"
    assert events_of(server, referral_id)[2:] == [("referral.status_changed", admin_view(server, boss, referral_id))]


def test_refused_applies_publish_nothing(server, boss):
    referrer = lf.user(server, ip=new_ip()["X-Forwarded-For"])
    referee, _ = lf.refer(server, referrer, **new_ip())
    before = count_events(server, "referral.")
    assert_error(lf.apply(server, referrer, lf.code_of(server, referrer)), 400, "self_referral")
    assert_error(lf.apply(server, referee, lf.code_of(server, referrer), **new_ip()), 409, "already_referred")
    assert_error(lf.apply(server, lf.user(server), "NOSUCHCODE"), 404, "invalid_code")
    assert count_events(server, "referral.") == before


def test_the_event_log_matches_the_tables(server, boss):
    """Every verified user has one user.verified event and every referral one
    referral.created; every referral not PENDING has a status change."""
    assert server.query("SELECT COUNT(*) FROM users WHERE is_verified = 1 AND id NOT IN"
                        " (SELECT aggregate_id FROM domain_events WHERE type = 'user.verified')") == [(0,)]
    assert server.query("SELECT aggregate_id FROM domain_events WHERE type = 'user.verified'"
                        " GROUP BY aggregate_id HAVING COUNT(*) > 1") == []
    assert server.query("SELECT COUNT(*) FROM referrals WHERE id NOT IN"
                        " (SELECT aggregate_id FROM domain_events WHERE type = 'referral.created')") == [(0,)]
    assert server.query("SELECT COUNT(*) FROM referrals WHERE status <> 'PENDING' AND id NOT IN"
                        " (SELECT aggregate_id FROM domain_events WHERE type = 'referral.status_changed')") == [(0,)]
