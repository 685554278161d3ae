"""Milestones: the admin routes, and one MILESTONE reward per (milestone, referrer)
under any concurrency (docs/API.md, Milestones)."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import requests

import flows
import invariants
import ledger_flows as lf
from checks import assert_error
from test_races import storm

RACERS = 50


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from lf.module_server(databases, tmp_path_factory, REFERRAL_MAX_USES_PER_HOUR=0)


@pytest.fixture(scope="module")
def boss(server):
    boss = lf.admin(server)
    lf.config(server, boss, "SIGNUP", 100)
    return boss


def create(server, boss, **body) -> requests.Response:
    return lf.post(server, "/api/admin/milestones", boss.headers, body)


def milestone(server, boss, threshold: int, value: int = 1000, unit: str = "POINTS") -> dict:
    answer = create(server, boss, successful_referrals=threshold, reward_value=value, reward_unit=unit)
    assert answer.status_code == 201, answer.text
    return answer.json()


def milestone_rewards(server, user_id: str) -> list[tuple]:
    return server.query("SELECT milestone_id, reward_value, reward_unit, status, beneficiary FROM rewards "
                        "WHERE reward_type = 'MILESTONE' AND user_id = %s ORDER BY reward_value", (user_id,))


def reached_events(server, user_id: str) -> list[dict]:
    rows = server.query("SELECT aggregate_id, data_json FROM domain_events WHERE type = 'milestone.reached' "
                        "ORDER BY seq")
    events = [(aggregate_id, json.loads(data)) for aggregate_id, data in rows]
    return [{"aggregate_id": aggregate_id, **data} for aggregate_id, data in events if data["user_id"] == user_id]


def credited_referral(server, boss, referrer) -> str:
    _, referral_id = lf.refer(server, referrer)
    assert lf.credit(server, boss, lf.reward_of(server, referral_id)["id"]).status_code == 200
    return referral_id


def deactivate_all(server, boss) -> None:
    for item in lf.get(server, "/api/admin/milestones", boss.headers).json():
        if item["is_active"]:
            lf.post(server, f"/api/admin/milestones/{item['id']}/deactivate", boss.headers)


def test_create_list_and_deactivate(server, boss):
    body = milestone(server, boss, 5, 2500, "CASH")
    assert set(body) == {"message", "id", "successful_referrals", "reward_value", "reward_unit", "is_active",
                         "created_at"}
    assert (body["message"], body["successful_referrals"], body["reward_value"], body["reward_unit"],
            body["is_active"]) == ("Milestone created", 5, 2500, "CASH", True)
    assert lf.TIMESTAMP.fullmatch(body["created_at"])
    listed = lf.get(server, "/api/admin/milestones", boss.headers)
    assert listed.status_code == 200
    assert {key: value for key, value in body.items() if key != "message"} in listed.json()
    off = lf.post(server, f"/api/admin/milestones/{body['id']}/deactivate", boss.headers)
    assert off.status_code == 200 and off.json()["is_active"] is False
    assert server.query("SELECT is_active FROM milestones WHERE id = %s", (body["id"],)) == [(0,)]


@pytest.mark.parametrize("body", [
    {"reward_value": 10, "reward_unit": "POINTS"},
    {"successful_referrals": 0, "reward_value": 10, "reward_unit": "POINTS"},
    {"successful_referrals": 2.5, "reward_value": 10, "reward_unit": "POINTS"},
    {"successful_referrals": 3, "reward_value": 0, "reward_unit": "POINTS"},
    {"successful_referrals": 3, "reward_value": 10**13, "reward_unit": "POINTS"},
    {"successful_referrals": 3, "reward_value": 10, "reward_unit": "EUR"},
    {"successful_referrals": 3, "reward_value": 10},
])
def test_bad_milestones_are_400_and_write_nothing(server, boss, body):
    before = server.query("SELECT COUNT(*) FROM milestones")[0][0]
    assert_error(create(server, boss, **body), 400, "validation_error")
    assert server.query("SELECT COUNT(*) FROM milestones")[0][0] == before


def test_unknown_milestone_is_404_and_the_routes_are_for_admins(server, boss):
    assert_error(lf.post(server, "/api/admin/milestones/nope/deactivate", boss.headers), 404, "milestone_not_found")
    user = lf.user(server)
    assert_error(lf.get(server, "/api/admin/milestones", user.headers), 403, "forbidden")
    assert_error(lf.post(server, "/api/admin/milestones", None, {}), 401, "missing_token")


def test_reaching_the_threshold_makes_one_milestone_reward(server, boss):
    deactivate_all(server, boss)
    two = milestone(server, boss, 2, 700)
    referrer = lf.user(server)
    credited_referral(server, boss, referrer)
    assert milestone_rewards(server, referrer.id) == []
    second = credited_referral(server, boss, referrer)
    assert milestone_rewards(server, referrer.id) == [(two["id"], 700, "POINTS", "PENDING", "REFERRER")]
    # It hangs on the referral that reached it, and its history says why.
    reward_id, referral_id = server.query("SELECT id, referral_id FROM rewards WHERE milestone_id = %s",
                                          (two["id"],))[0]
    assert referral_id == second
    assert lf.history(server, boss, reward_id)[0]["reason"] == "2 successful referrals reached"
    # milestone.reached on the event spine, written with the reward.
    [event] = reached_events(server, referrer.id)
    assert event["aggregate_id"] == reward_id
    assert event["milestone"] == {key: value for key, value in two.items() if key != "message"}
    assert (event["reward"]["reward_id"], event["reward"]["reward_type"], event["reward"]["user_id"],
            event["reward"]["referral_id"]) == (reward_id, "MILESTONE", referrer.id, second)
    credited_referral(server, boss, referrer)
    assert len(milestone_rewards(server, referrer.id)) == 1
    assert len(reached_events(server, referrer.id)) == 1
    invariants.check_all(server)


def test_a_revoke_and_a_new_success_do_not_reward_the_milestone_again(server, boss):
    deactivate_all(server, boss)
    one = milestone(server, boss, 1, 300)
    referrer = lf.user(server)
    first = credited_referral(server, boss, referrer)
    assert len(milestone_rewards(server, referrer.id)) == 1
    assert lf.revoke(server, boss, lf.reward_of(server, first)["id"]).status_code == 200
    assert lf.stats_of(server, referrer.id)[1] == 0
    credited_referral(server, boss, referrer)  # crosses the threshold again
    assert milestone_rewards(server, referrer.id) == [(one["id"], 300, "POINTS", "PENDING", "REFERRER")]
    # Revoking the milestone reward leaves the referral's status alone.
    reward_id = server.query("SELECT id, referral_id FROM rewards WHERE milestone_id = %s", (one["id"],))[0][0]
    assert lf.revoke(server, boss, reward_id).status_code == 200
    invariants.check_all(server)


def test_a_deactivated_milestone_rewards_nobody(server, boss):
    deactivate_all(server, boss)
    gone = milestone(server, boss, 1)
    lf.post(server, f"/api/admin/milestones/{gone['id']}/deactivate", boss.headers)
    referrer = lf.user(server)
    credited_referral(server, boss, referrer)
    assert milestone_rewards(server, referrer.id) == []


def test_fifty_credits_at_once_make_one_reward_per_milestone(server, boss):
    deactivate_all(server, boss)
    thresholds = [milestone(server, boss, n, 10 * n) for n in (1, 25, 50)]
    referrer = lf.user(server)
    reward_ids = [lf.reward_of(server, lf.refer(server, referrer)[1])["id"] for _ in range(RACERS)]
    answers = storm([lambda reward_id=reward_id: lf.credit(server, boss, reward_id) for reward_id in reward_ids])
    assert Counter(answer.status_code for answer in answers) == Counter({200: RACERS})
    assert lf.stats_of(server, referrer.id) == (RACERS, RACERS, 0, 0)
    got = server.query("SELECT milestone_id, COUNT(*) FROM rewards WHERE user_id = %s AND reward_type = 'MILESTONE' "
                       "GROUP BY milestone_id", (referrer.id,))
    assert dict(got) == {item["id"]: 1 for item in thresholds}
    assert Counter(event["milestone"]["id"] for event in reached_events(server, referrer.id)) == Counter(
        {item["id"]: 1 for item in thresholds})
    # Each MILESTONE reward has its `created` entry: the projections verify.
    verdict = flows.cli(server, "ledger", "verify")
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    invariants.check_all(server)


def test_fifty_revokes_and_credits_crossing_back_and_forth_keep_one_reward(server, boss):
    deactivate_all(server, boss)
    five = milestone(server, boss, 5)
    referrer = lf.user(server)
    credited = [credited_referral(server, boss, referrer) for _ in range(5)]
    pending = [lf.refer(server, referrer)[1] for _ in range(RACERS - 5)]
    calls = [lambda r=r: lf.revoke(server, boss, lf.reward_of(server, r)["id"]) for r in credited]
    calls += [lambda r=r: lf.credit(server, boss, lf.reward_of(server, r)["id"]) for r in pending]
    answers = storm(calls)
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers if a.status_code != 200]
    assert server.query("SELECT COUNT(*) FROM rewards WHERE milestone_id = %s AND user_id = %s",
                        (five["id"], referrer.id)) == [(1,)]
    assert len(reached_events(server, referrer.id)) == 1
    invariants.check_all(server)
