"""hold_days, available_at, reward_on_hold and the hold timer that credits due
rewards (docs/API.md, Reward rules). A hold day lasts one second here
(REWARD_HOLD_DAY=1s, the test-only setting) and the timer looks every 100 ms."""

from __future__ import annotations

import datetime
import time

import pytest

import flows
import invariants
import ledger_flows as lf
from checks import assert_error

# A burst flag on the second use of a code within an hour gives the tests a
# referral held for review when they want one.
HOLD_ENV = {"REWARD_HOLD_DAY": "1s", "REWARD_TIMER_INTERVAL": "100ms", "REFERRAL_MAX_USES_PER_HOUR": "1"}


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from lf.module_server(databases, tmp_path_factory, **HOLD_ENV)


@pytest.fixture(scope="module")
def boss(server):
    return lf.admin(server)


def millis(timestamp: str) -> int:
    moment = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    return round(moment.timestamp() * 1000)


def wait_for_status(server, reward_id: str, status: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.query("SELECT status FROM rewards WHERE id = %s", (reward_id,))[0][0] == status:
            return
        time.sleep(0.05)
    raise AssertionError(f"reward {reward_id} did not become {status} within {timeout} s")


def admin_reward(server, boss, user_id: str, reward_id: str) -> dict:
    found = [r for r in lf.get(server, "/api/admin/rewards", boss.headers, user_id=user_id).json()
             if r["reward_id"] == reward_id]
    assert len(found) == 1
    return found[0]


def test_a_held_reward_shows_available_at_and_refuses_an_early_credit(server, boss):
    lf.config(server, boss, "SIGNUP", 100, hold_days=365)
    referrer = lf.user(server)
    _, referral_id = lf.refer(server, referrer)
    reward_id = lf.reward_of(server, referral_id)["id"]
    shown = admin_reward(server, boss, referrer.id, reward_id)
    assert millis(shown["available_at"]) - millis(shown["created_at"]) == 365 * 1000
    early = assert_error(lf.credit(server, boss, reward_id), 409, "reward_on_hold")
    assert shown["available_at"] in early["error"]
    assert lf.reward_of(server, referral_id)["status"] == "PENDING"
    assert [row["to"] for row in lf.history(server, boss, reward_id)] == ["PENDING"]
    # Without auto_credit the timer leaves it alone; an admin may revoke it.
    assert lf.revoke(server, boss, reward_id).status_code == 200


def test_an_admin_credits_once_the_hold_is_over(server, boss):
    lf.config(server, boss, "SIGNUP", 100, hold_days=1)
    _, referral_id = lf.refer(server, lf.user(server))
    reward_id = lf.reward_of(server, referral_id)["id"]
    assert_error(lf.credit(server, boss, reward_id), 409, "reward_on_hold")
    time.sleep(1.1)
    assert lf.credit(server, boss, reward_id).status_code == 200
    assert lf.referral_status(server, referral_id) == "SUCCESS"


def test_a_reward_without_hold_has_no_available_at(server, boss):
    lf.config(server, boss, "SIGNUP", 100)
    referrer = lf.user(server)
    _, referral_id = lf.refer(server, referrer)
    reward_id = lf.reward_of(server, referral_id)["id"]
    assert admin_reward(server, boss, referrer.id, reward_id)["available_at"] is None
    assert lf.credit(server, boss, reward_id).status_code == 200


def test_the_timer_credits_an_auto_credit_reward_when_its_hold_ends(server, boss):
    lf.config(server, boss, "SIGNUP", 100, hold_days=1, auto_credit=True)
    referrer = lf.user(server)
    _, referral_id = lf.refer(server, referrer)
    reward_id = lf.reward_of(server, referral_id)["id"]
    assert lf.reward_of(server, referral_id)["status"] == "PENDING"
    wait_for_status(server, reward_id, "CREDITED")
    shown = admin_reward(server, boss, referrer.id, reward_id)
    late_ms = millis(shown["credited_at"]) - millis(shown["available_at"])
    assert 0 <= late_ms < 2000, shown
    last = lf.history(server, boss, reward_id)[-1]
    assert (last["from"], last["to"], last["reason"]) == ("PENDING", "CREDITED", "hold ended: auto credit")
    # The history shows the system as null; its ledger entry names it.
    assert server.query("SELECT actor FROM ledger_entries WHERE reward_id = %s AND kind = 'credited'",
                        (reward_id,)) == [("system",)]
    assert lf.referral_status(server, referral_id) == "SUCCESS"
    assert lf.stats_of(server, referrer.id) == (1, 1, 0, 0)
    invariants.check_all(server)


def test_a_reward_revoked_before_its_hold_ends_is_never_credited(server, boss):
    lf.config(server, boss, "SIGNUP", 100, hold_days=1, auto_credit=True)
    _, referral_id = lf.refer(server, lf.user(server))
    reward_id = lf.reward_of(server, referral_id)["id"]
    assert lf.revoke(server, boss, reward_id).status_code == 200
    time.sleep(1.6)
    assert lf.reward_of(server, referral_id)["status"] == "REVOKED"
    assert [row["to"] for row in lf.history(server, boss, reward_id)] == ["PENDING", "REVOKED"]
    invariants.check_all(server)


def test_a_referral_held_for_review_is_not_credited_by_the_timer(server, boss):
    lf.config(server, boss, "SIGNUP", 100, hold_days=1, auto_credit=True)
    referrer = lf.user(server)
    lf.refer(server, referrer)
    _, flagged_id = lf.refer(server, referrer)  # the second use within the hour: a burst flag
    assert "burst" in server.query("SELECT flags FROM referrals WHERE id = %s", (flagged_id,))[0][0]
    assert server.query("SELECT available_at IS NOT NULL, auto_credit_at FROM rewards WHERE referral_id = %s",
                        (flagged_id,)) == [(True, None)]
    time.sleep(1.6)
    assert lf.reward_of(server, flagged_id)["status"] == "PENDING"


def test_two_instances_credit_each_due_reward_exactly_once(server, boss, make_server):
    lf.config(server, boss, "SIGNUP", 100, hold_days=1, auto_credit=True)
    second = make_server(env=lf.env(**HOLD_ENV), database_url=server.database_url)
    referral_ids = [lf.refer(server, lf.user(server))[1] for _ in range(30)]
    reward_ids = [lf.reward_of(server, referral_id)["id"] for referral_id in referral_ids]
    for reward_id in reward_ids:
        wait_for_status(server, reward_id, "CREDITED")
    credits = server.query("SELECT reward_id, COUNT(*) FROM ledger_entries WHERE kind = 'credited' "
                           "AND actor = 'system' GROUP BY reward_id")
    assert {row[0]: row[1] for row in credits if row[0] in reward_ids} == {reward_id: 1 for reward_id in reward_ids}
    assert second.alive()
    invariants.check_all(server)
    assert flows.cli(server, "ledger", "verify").returncode == 0
