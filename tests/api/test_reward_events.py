"""POST /api/admin/events: FIRST_ORDER rewards, once per (type, external_id)."""

from __future__ import annotations

import uuid

import pytest

import invariants
import ledger_flows as lf
from checks import assert_error


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from lf.module_server(databases, tmp_path_factory)


@pytest.fixture(scope="module")
def boss(server):
    boss = lf.admin(server)
    lf.config(server, boss, "SIGNUP", 100)
    lf.config(server, boss, "FIRST_ORDER", 500, "CASH")
    lf.config(server, boss, "FIRST_ORDER", 50, "POINTS", beneficiary="REFEREE")
    return boss


def order_id() -> str:
    return "order-" + uuid.uuid4().hex


def count(server, table: str) -> int:
    return server.query(f"SELECT COUNT(*) FROM {table}")[0][0]


def test_event_by_user_id_creates_the_first_order_rewards(server, boss):
    referrer = lf.user(server)
    referee, referral_id = lf.refer(server, referrer)
    external_id = order_id()
    answer = lf.event(server, boss, external_id, user_id=referee.id)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["type"] == "FIRST_ORDER" and body["external_id"] == external_id
    assert body["user_id"] == referee.id and body["referral_id"] == referral_id
    got = {(r["beneficiary"], r["reward_value"], r["reward_unit"], r["status"], r["reward_type"])
           for r in body["rewards"]}
    assert got == {("REFERRER", 500, "CASH", "PENDING", "FIRST_ORDER"),
                   ("REFEREE", 50, "POINTS", "PENDING", "FIRST_ORDER")}
    stored = {(r["beneficiary"], r["user_id"], r["reward_value"]) for r in lf.rewards_of(server, referral_id)
              if r["reward_type"] == "FIRST_ORDER"}
    assert stored == {("REFERRER", referrer.id, 500), ("REFEREE", referee.id, 50)}
    assert {r["reward_id"] for r in body["rewards"]} == {r["id"] for r in lf.rewards_of(server, referral_id)
                                                         if r["reward_type"] == "FIRST_ORDER"}
    # The referral's SIGNUP reward is still alone in its kind.
    assert lf.reward_of(server, referral_id)["reward_type"] == "SIGNUP"


def test_event_by_email_finds_the_user(server, boss):
    referee, referral_id = lf.refer(server, lf.user(server))
    answer = lf.event(server, boss, order_id(), email=referee.email)
    assert answer.status_code == 201, answer.text
    assert answer.json()["user_id"] == referee.id and len(answer.json()["rewards"]) == 2
    # Emails are case-insensitive everywhere (docs/API.md, Input rules).
    other, _ = lf.refer(server, lf.user(server))
    shouted = lf.event(server, boss, order_id(), email=f"  {other.email.upper()} ")
    assert shouted.status_code == 201, shouted.text
    assert shouted.json()["user_id"] == other.id


def test_repeat_of_an_external_id_answers_200_with_the_same_body(server, boss):
    referee, referral_id = lf.refer(server, lf.user(server))
    external_id = order_id()
    first = lf.event(server, boss, external_id, user_id=referee.id)
    assert first.status_code == 201
    rewards_before, events_before = count(server, "rewards"), count(server, "events")
    again = lf.event(server, boss, external_id, user_id=referee.id)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert (count(server, "rewards"), count(server, "events")) == (rewards_before, events_before)


def test_second_order_creates_no_second_first_order_reward(server, boss):
    referee, referral_id = lf.refer(server, lf.user(server))
    assert lf.event(server, boss, order_id(), user_id=referee.id).status_code == 201
    second = lf.event(server, boss, order_id(), user_id=referee.id)
    assert second.status_code == 201, second.text
    assert second.json()["rewards"] == []
    assert len(lf.rewards_of(server, referral_id)) == 3
    invariants.no_duplicate_rewards(server)


def test_user_without_referral_gets_201_with_no_rewards(server, boss):
    loner = lf.user(server)
    rewards_before = count(server, "rewards")
    answer = lf.event(server, boss, order_id(), user_id=loner.id)
    assert answer.status_code == 201, answer.text
    assert answer.json()["rewards"] == [] and answer.json()["referral_id"] is None
    assert count(server, "rewards") == rewards_before


@pytest.mark.parametrize("who", [{"user_id": "no-such-user"}, {"email": "nobody@example.com"}])
def test_unknown_user_is_404_and_records_nothing(server, boss, who):
    events_before = count(server, "events")
    external_id = order_id()
    answer = lf.event(server, boss, external_id, **who)
    assert_error(answer, 404, "user_not_found")
    assert count(server, "events") == events_before
    # The external id was not spent on the failure.
    referee, _ = lf.refer(server, lf.user(server))
    assert lf.event(server, boss, external_id, user_id=referee.id).status_code == 201


@pytest.mark.parametrize("body", [
    {"type": "SIGNUP", "external_id": "x1"},
    {"type": "first_order", "external_id": "x2"},
    {"type": "FIRST_ORDER"},
    {"type": "FIRST_ORDER", "external_id": ""},
    {"external_id": "x3"},
    {"type": "FIRST_ORDER", "external_id": "x4", "user_id": None},
])
def test_invalid_event_is_400(server, boss, body):
    referee, _ = lf.refer(server, lf.user(server))
    full = {"user_id": referee.id, **body}
    full = {name: value for name, value in full.items() if value is not None}
    assert_error(lf.post(server, "/api/admin/events", boss.headers, full), 400, "validation_error")


def test_events_without_a_first_order_config_grant_nothing(make_server):
    server = make_server(env=lf.env())
    boss = lf.admin(server)
    lf.config(server, boss)
    referee, referral_id = lf.refer(server, lf.user(server))
    answer = lf.event(server, boss, order_id(), user_id=referee.id)
    assert answer.status_code == 201 and answer.json()["rewards"] == []
    assert len(lf.rewards_of(server, referral_id)) == 1


def auto_credit_first_order(make_server) -> tuple:
    """A server whose FIRST_ORDER config auto-credits, and one referral:
    (server, boss, referrer, referee, referral id)."""
    server = make_server(env=lf.env())
    boss = lf.admin(server)
    lf.config(server, boss)
    lf.config(server, boss, "FIRST_ORDER", 300, "CASH", auto_credit=True)
    referrer = lf.user(server)
    referee, referral_id = lf.refer(server, referrer)
    return server, boss, referrer, referee, referral_id


def test_auto_credit_first_order_settles_the_referral(make_server):
    server, boss, referrer, referee, referral_id = auto_credit_first_order(make_server)
    answer = lf.event(server, boss, order_id(), user_id=referee.id)
    assert [r["status"] for r in answer.json()["rewards"]] == ["CREDITED"]
    assert lf.referral_status(server, referral_id) == "SUCCESS"
    assert lf.stats_of(server, referrer.id) == (1, 1, 0, 0)
    invariants.check_all(server)


def test_a_rejected_referral_earns_nothing_more(make_server):
    # Issue 12: once every reward of a referral was revoked (REJECTED), an
    # auto-credited FIRST_ORDER reward brought it back to SUCCESS.
    server, boss, referrer, referee, referral_id = auto_credit_first_order(make_server)
    assert lf.revoke(server, boss, lf.reward_of(server, referral_id)["id"]).status_code == 200
    assert lf.referral_status(server, referral_id) == "REJECTED"
    external_id = order_id()
    answer = lf.event(server, boss, external_id, user_id=referee.id)
    assert answer.status_code == 201, answer.text
    assert answer.json()["referral_id"] == referral_id and answer.json()["rewards"] == []
    assert [r["reward_type"] for r in lf.rewards_of(server, referral_id)] == ["SIGNUP"]
    assert lf.referral_status(server, referral_id) == "REJECTED"
    assert lf.stats_of(server, referrer.id) == (1, 0, 0, 1)
    repeat = lf.event(server, boss, external_id, user_id=referee.id)
    assert (repeat.status_code, repeat.json()) == (200, answer.json())
    balance = lf.get(server, "/api/rewards/balance", referrer.headers).json()
    assert balance["CASH"] == {"pending": 0, "credited": 0}
    invariants.check_all(server)


def test_invariants_hold(server):
    invariants.check_all(server)
