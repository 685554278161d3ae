"""max_rewards_per_referrer (flag cap_reached) and budget (flag budget_exhausted,
budget_used), alone and under 50-way races, with the ledger's invariants
checked in SQL after each (docs/API.md, Reward rules)."""

from __future__ import annotations

import json
import uuid
from collections import Counter

import pytest

import invariants
import ledger_flows as lf
from test_races import storm

RACERS = 50


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    # Many referees use one code within the hour here: no burst flag.
    yield from lf.module_server(databases, tmp_path_factory, REFERRAL_MAX_USES_PER_HOUR=0)


@pytest.fixture(scope="module")
def boss(server):
    return lf.admin(server)


def flags_of(server, referral_id: str) -> list[str]:
    flags = server.query("SELECT flags FROM referrals WHERE id = %s", (referral_id,))[0][0]
    return [flag["rule"] for flag in json.loads(flags)] if flags else []


def signup_rewards(server, referral_id: str) -> list[dict]:
    return [r for r in lf.rewards_of(server, referral_id) if r["reward_type"] == "SIGNUP"]


def config_row(server, boss, config_id: str) -> dict:
    listed = [c for c in lf.get(server, "/api/admin/reward-config", boss.headers).json() if c["id"] == config_id]
    assert len(listed) == 1
    return listed[0]


def test_the_cap_stops_rewards_of_a_config_beyond_it_and_flags_the_referral(server, boss):
    lf.config(server, boss, "SIGNUP", 100, max_rewards_per_referrer=2)
    referrer = lf.user(server)
    referral_ids = [lf.refer(server, referrer)[1] for _ in range(4)]
    assert [len(signup_rewards(server, referral_id)) for referral_id in referral_ids] == [1, 1, 0, 0]
    assert [flags_of(server, referral_id) for referral_id in referral_ids] == [[], [], ["cap_reached"], ["cap_reached"]]
    flagged = lf.get(server, "/api/admin/referrals/flagged", boss.headers).json()
    assert {item["referral_id"] for item in flagged} >= set(referral_ids[2:])
    # The flag informs: the referral stays PENDING and is not refused.
    assert lf.referral_status(server, referral_ids[3]) == "PENDING"
    # ... and is published on the event spine with the referral as it is now.
    published = server.query("SELECT data_json FROM domain_events WHERE type = 'referral.flagged' "
                             "AND aggregate_id = %s", (referral_ids[2],))
    assert len(published) == 1 and "cap_reached" in published[0][0], published
    invariants.check_all(server)


def test_a_revoked_reward_still_counts_against_the_cap(server, boss):
    lf.config(server, boss, "SIGNUP", 100, max_rewards_per_referrer=1)
    referrer = lf.user(server)
    _, first = lf.refer(server, referrer)
    assert lf.revoke(server, boss, lf.reward_of(server, first)["id"]).status_code == 200
    _, second = lf.refer(server, referrer)
    assert signup_rewards(server, second) == [] and flags_of(server, second) == ["cap_reached"]


def test_the_cap_counts_per_beneficiary(server, boss):
    lf.config(server, boss, "SIGNUP", 100)
    lf.config(server, boss, "PURCHASE", 10, "CASH", beneficiary="REFEREE", max_rewards_per_referrer=2)
    referee, referral_id = lf.refer(server, lf.user(server))
    values = []
    for _ in range(3):
        answer = lf.post(server, "/api/admin/events", boss.headers,
                         {"type": "PURCHASE", "external_id": uuid.uuid4().hex, "user_id": referee.id})
        assert answer.status_code == 201, answer.text
        values.append(len(answer.json()["rewards"]))
    assert values == [1, 1, 0] and flags_of(server, referral_id) == ["cap_reached"]


def test_a_reward_that_does_not_fit_the_budget_is_not_made(server, boss):
    config = lf.config(server, boss, "SIGNUP", 100, budget=250)
    referral_ids = [lf.refer(server, lf.user(server))[1] for _ in range(3)]
    # 100 + 100 fit; the third would need 100 of the 50 left: none (never a partial 50).
    assert [len(signup_rewards(server, referral_id)) for referral_id in referral_ids] == [1, 1, 0]
    assert flags_of(server, referral_ids[2]) == ["budget_exhausted"]
    assert config_row(server, boss, config["id"])["budget_used"] == 200
    # A revoked reward gives its value back: the next referral fits again.
    assert lf.revoke(server, boss, lf.reward_of(server, referral_ids[0])["id"]).status_code == 200
    assert config_row(server, boss, config["id"])["budget_used"] == 100
    _, again = lf.refer(server, lf.user(server))
    assert len(signup_rewards(server, again)) == 1
    assert config_row(server, boss, config["id"])["budget_used"] == 200
    invariants.check_all(server)


def test_a_credited_then_revoked_reward_gives_its_value_back_too(server, boss):
    config = lf.config(server, boss, "SIGNUP", 100, budget=100)
    _, referral_id = lf.refer(server, lf.user(server))
    reward_id = lf.reward_of(server, referral_id)["id"]
    assert lf.credit(server, boss, reward_id).status_code == 200
    assert config_row(server, boss, config["id"])["budget_used"] == 100
    assert lf.revoke(server, boss, reward_id).status_code == 200
    assert config_row(server, boss, config["id"])["budget_used"] == 0


def test_fifty_applies_never_overspend_the_budget(server, boss):
    config = lf.config(server, boss, "SIGNUP", 100, budget=20 * 100)
    codes = [lf.code_of(server, lf.user(server)) for _ in range(RACERS)]
    referees = [lf.user(server) for _ in range(RACERS)]
    answers = storm([lambda who=who, code=code: lf.apply(server, who, code) for who, code in zip(referees, codes)])
    assert Counter(answer.status_code for answer in answers) == Counter({200: RACERS})
    made = server.query("SELECT COUNT(*), SUM(reward_value) FROM rewards WHERE config_id = %s", (config["id"],))
    assert made == [(20, 2000)]
    assert server.query("SELECT budget_used FROM reward_configs WHERE id = %s", (config["id"],)) == [(2000,)]
    exhausted = server.query("SELECT COUNT(*) FROM referrals WHERE flags LIKE %s", ("%budget_exhausted%",))[0][0]
    assert exhausted >= RACERS - 20
    invariants.check_all(server)


def test_fifty_referees_of_one_referrer_never_pass_the_cap(server, boss):
    config = lf.config(server, boss, "SIGNUP", 100, max_rewards_per_referrer=10)
    referrer = lf.user(server)
    code = lf.code_of(server, referrer)
    referees = [lf.user(server) for _ in range(RACERS)]
    answers = storm([lambda who=who: lf.apply(server, who, code) for who in referees])
    assert Counter(answer.status_code for answer in answers) == Counter({200: RACERS})
    assert server.query("SELECT COUNT(*) FROM rewards WHERE config_id = %s AND user_id = %s",
                        (config["id"], referrer.id)) == [(10,)]
    assert server.query("SELECT rewards FROM reward_config_counts WHERE config_id = %s AND user_id = %s",
                        (config["id"], referrer.id)) == [(10,)]
    capped = server.query("SELECT COUNT(*) FROM referrals WHERE referrer_id = %s AND flags LIKE %s",
                          (referrer.id, "%cap_reached%"))[0][0]
    assert capped == RACERS - 10
    invariants.check_all(server)


def test_fifty_revokes_and_applies_keep_the_budget_exact(server, boss):
    config = lf.config(server, boss, "SIGNUP", 100, budget=25 * 100)
    reward_ids = [lf.reward_of(server, lf.refer(server, lf.user(server))[1])["id"] for _ in range(25)]
    codes = [lf.code_of(server, lf.user(server)) for _ in range(RACERS - 25)]
    referees = [lf.user(server) for _ in codes]
    calls = [lambda reward_id=reward_id: lf.revoke(server, boss, reward_id) for reward_id in reward_ids]
    calls += [lambda who=who, code=code: lf.apply(server, who, code) for who, code in zip(referees, codes)]
    answers = storm(calls)
    assert all(answer.status_code == 200 for answer in answers), [a.text for a in answers if a.status_code != 200]
    invariants.budgets_hold(server)
    used = server.query("SELECT budget_used FROM reward_configs WHERE id = %s", (config["id"],))[0][0]
    assert 0 <= used <= 2500
    invariants.check_all(server)
