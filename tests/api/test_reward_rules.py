"""Reward rules on configs and events: the config fields, percent_of_amount with
max_value, PURCHASE events, amount and currency (docs/API.md, Reward rules)."""

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
    return boss


def create(server, boss, **body):
    return lf.post(server, "/api/admin/reward-config", boss.headers, body)


def percent_config(server, boss, reward_type="PURCHASE", percent=10, **extra) -> dict:
    answer = create(server, boss, reward_type=reward_type, percent_of_amount=percent, reward_unit="CASH", **extra)
    assert answer.status_code == 201, answer.text
    return answer.json()


def event(server, boss, referee, event_type="PURCHASE", **extra):
    body = {"type": event_type, "external_id": "order-" + uuid.uuid4().hex, "user_id": referee.id, **extra}
    return lf.post(server, "/api/admin/events", boss.headers, body)


def config_count(server) -> int:
    return server.query("SELECT COUNT(*) FROM reward_configs")[0][0]


# FIRST_ORDER, so that a server ignoring the rule fields would accept these bodies.
FIXED = {"reward_type": "FIRST_ORDER", "reward_value": 100, "reward_unit": "CASH"}
PERCENT = {"reward_type": "FIRST_ORDER", "percent_of_amount": 10, "reward_unit": "CASH"}


@pytest.mark.parametrize("body", [
    {**FIXED, "percent_of_amount": 10},                          # both ways of valuing
    {"reward_type": "FIRST_ORDER", "reward_unit": "CASH"},       # neither
    {**PERCENT, "percent_of_amount": 0},
    {**PERCENT, "percent_of_amount": 101},
    {**PERCENT, "percent_of_amount": 12.5},
    {**PERCENT, "percent_of_amount": "10"},
    {**PERCENT, "reward_type": "SIGNUP"},                        # a signup has no amount
    {**FIXED, "max_value": 50},                                  # max_value only with a percent
    {**PERCENT, "max_value": 0},
    {**FIXED, "hold_days": -1},
    {**FIXED, "hold_days": 366},
    {**FIXED, "hold_days": 1.5},
    {**FIXED, "max_rewards_per_referrer": 0},
    {**FIXED, "budget": 0},
    {**FIXED, "budget": 10**13},
    {**FIXED, "reward_type": "MILESTONE"},                       # milestones have their own route
])
def test_bad_rule_fields_are_400_and_write_nothing(server, boss, body):
    before = config_count(server)
    assert_error(create(server, boss, **body), 400, "validation_error")
    assert config_count(server) == before


def test_a_config_answers_and_lists_its_rules(server, boss):
    body = percent_config(server, boss, percent=15, max_value=1000, hold_days=3, max_rewards_per_referrer=4,
                          budget=50000, auto_credit=True)
    assert (body["reward_type"], body["reward_value"], body["percent_of_amount"], body["max_value"],
            body["hold_days"], body["max_rewards_per_referrer"], body["budget"], body["budget_used"],
            body["auto_credit"]) == ("PURCHASE", None, 15, 1000, 3, 4, 50000, 0, True)
    listed = lf.get(server, "/api/admin/reward-config", boss.headers).json()
    assert {key: value for key, value in body.items() if key != "message"} in listed
    rows = server.query("SELECT reward_value, percent_of_amount, max_value, hold_days, max_rewards_per_referrer, "
                        "budget, budget_used FROM reward_configs WHERE id = %s", (body["id"],))
    assert rows == [(0, 15, 1000, 3, 4, 50000, 0)]


def test_percent_of_amount_rounds_down_and_stops_at_max_value(server, boss):
    percent_config(server, boss, percent=15, max_value=1000)
    referee, referral_id = lf.refer(server, lf.user(server))
    got = []
    for amount in (999, 10000, 6666, 6):
        answer = event(server, boss, referee, amount=amount, currency="EUR")
        assert answer.status_code == 201, answer.text
        got.append([reward["reward_value"] for reward in answer.json()["rewards"]])
    # 149.85 -> 149; 1500 capped at 1000; 999.9 -> 999; 0.9 -> 0, which makes no reward.
    assert got == [[149], [1000], [999], []]
    stored = server.query("SELECT reward_value FROM rewards WHERE referral_id = %s AND reward_type = 'PURCHASE' "
                          "ORDER BY reward_value", (referral_id,))
    assert stored == [(149,), (999,), (1000,)]


def test_purchase_rewards_every_order_once_per_event_and_beneficiary(server, boss):
    lf.config(server, boss, "PURCHASE", 70, "CASH")
    lf.config(server, boss, "PURCHASE", 5, "POINTS", beneficiary="REFEREE")
    referrer = lf.user(server)
    referee, referral_id = lf.refer(server, referrer)
    first = event(server, boss, referee)
    second = event(server, boss, referee)
    assert first.status_code == second.status_code == 201, (first.text, second.text)
    for answer in (first, second):
        assert {(r["reward_type"], r["beneficiary"], r["reward_value"]) for r in answer.json()["rewards"]} == {
            ("PURCHASE", "REFERRER", 70), ("PURCHASE", "REFEREE", 5)}
    # The same order again is the same event: 200, nothing new.
    again = lf.post(server, "/api/admin/events", boss.headers,
                    {"type": "PURCHASE", "external_id": first.json()["external_id"], "user_id": referee.id})
    assert again.status_code == 200 and again.json() == first.json()
    rows = server.query("SELECT r.event_id, r.beneficiary, e.external_id FROM rewards r JOIN events e "
                        "ON e.id = r.event_id WHERE r.referral_id = %s ORDER BY e.external_id, r.beneficiary",
                        (referral_id,))
    assert len(rows) == 4 and len({(row[0], row[1]) for row in rows}) == 4
    assert {row[2] for row in rows} == {first.json()["external_id"], second.json()["external_id"]}
    invariants.check_all(server)


def test_an_event_without_amount_matches_only_fixed_configs(server, boss):
    percent_config(server, boss, reward_type="FIRST_ORDER", percent=20)
    lf.config(server, boss, "FIRST_ORDER", 40, "POINTS", beneficiary="REFEREE")
    referee, _ = lf.refer(server, lf.user(server))
    without = event(server, boss, referee, event_type="FIRST_ORDER")
    assert without.status_code == 201, without.text
    assert [(r["beneficiary"], r["reward_value"]) for r in without.json()["rewards"]] == [("REFEREE", 40)]
    other, _ = lf.refer(server, lf.user(server))
    with_amount = event(server, boss, other, event_type="FIRST_ORDER", amount=2550, currency="USD")
    assert with_amount.status_code == 201, with_amount.text
    assert sorted((r["beneficiary"], r["reward_value"]) for r in with_amount.json()["rewards"]) == [
        ("REFEREE", 40), ("REFERRER", 510)]


def test_an_event_keeps_its_amount_and_currency(server, boss):
    referee, _ = lf.refer(server, lf.user(server))
    answer = event(server, boss, referee, amount=0, currency="JPY")
    assert answer.status_code == 201, answer.text
    assert (answer.json()["amount"], answer.json()["currency"]) == (0, "JPY")
    assert server.query("SELECT amount, currency FROM events WHERE id = %s", (answer.json()["event_id"],)) == [
        (0, "JPY")]
    plain = event(server, boss, referee)
    assert (plain.json()["amount"], plain.json()["currency"]) == (None, None)


@pytest.mark.parametrize("extra", [
    {"amount": -1}, {"amount": "100"}, {"amount": 1.5}, {"amount": 10**13},
    {"amount": 100, "currency": "eur"}, {"amount": 100, "currency": "EURO"}, {"amount": 100, "currency": 978},
    {"currency": "EUR"},                                          # a currency without an amount
    {"type": "REFUND"},
])
def test_bad_event_fields_are_400_and_write_nothing(server, boss, extra):
    referee, _ = lf.refer(server, lf.user(server))
    before = server.query("SELECT COUNT(*) FROM events")[0][0]
    assert_error(event(server, boss, referee, event_type="FIRST_ORDER", **extra), 400, "validation_error")
    assert server.query("SELECT COUNT(*) FROM events")[0][0] == before


def test_the_database_refuses_unknown_kinds_and_statuses(server, boss):
    referee, referral_id = lf.refer(server, lf.user(server))
    reward_id = lf.reward_of(server, referral_id)["id"]
    for statement in ("UPDATE rewards SET status = 'PAID' WHERE id = %s",
                      "UPDATE rewards SET reward_type = 'BONUS' WHERE id = %s",
                      "UPDATE rewards SET reward_unit = 'EUR' WHERE id = %s",
                      "UPDATE rewards SET beneficiary = 'FRIEND' WHERE id = %s"):
        with pytest.raises(Exception, match="(?i)check"):
            server.query(statement, (reward_id,))
    assert lf.reward_of(server, referral_id)["status"] == "PENDING"
