"""POST /api/referral/apply: the answer, the rules, and what reaches the database."""

from __future__ import annotations

import uuid

import pytest

import invariants
import ledger_flows as lf
from checks import assert_error

DAY_MS = 24 * 3600 * 1000
CHAIN = 70


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from lf.module_server(databases, tmp_path_factory)


@pytest.fixture(scope="module")
def boss(server):
    boss = lf.admin(server)
    lf.config(server, boss, value=100)
    return boss


def counts(server) -> tuple:
    return (server.query("SELECT COUNT(*) FROM referrals")[0][0],
            server.query("SELECT COUNT(*) FROM rewards")[0][0],
            server.query("SELECT COALESCE(SUM(uses), 0) FROM referral_codes")[0][0])


def test_apply_answers_and_records_the_referral(server, boss):
    referrer, referee = lf.user(server), lf.user(server)
    code = lf.code_of(server, referrer)
    answer = lf.apply(server, referee, code)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["message"] == "Referral applied successfully"
    assert body["referral_code"] == code
    assert body["status"] == "PENDING"
    assert isinstance(body["referral_id"], str) and body["referral_id"]
    rows = server.query("SELECT r.referee_id, r.referrer_id, c.code, r.status, r.is_flagged FROM referrals r "
                        "JOIN referral_codes c ON c.id = r.code_id WHERE r.id = %s", (body["referral_id"],))
    assert rows == [(referee.id, referrer.id, code, "PENDING", 0)]
    assert server.query("SELECT uses FROM referral_codes WHERE code = %s", (code,)) == [(1,)]
    assert lf.stats_of(server, referrer.id) == (1, 0, 1, 0)
    reward = lf.reward_of(server, body["referral_id"])
    assert (reward["user_id"], reward["reward_value"], reward["reward_unit"], reward["status"]) == (
        referrer.id, 100, "POINTS", "PENDING")


@pytest.mark.parametrize("spell", [str.lower, lambda code: f"  {code.lower()}  ", lambda code: f"\t{code}\n"])
def test_code_matches_case_insensitively_with_spaces(server, boss, spell):
    referrer, referee = lf.user(server), lf.user(server)
    code = lf.code_of(server, referrer)
    answer = lf.apply(server, referee, spell(code))
    assert answer.status_code == 200, answer.text
    assert answer.json()["referral_code"] == code
    assert server.query("SELECT referrer_id FROM referrals WHERE referee_id = %s", (referee.id,)) == [
        (referrer.id,)]


def test_legacy_path_applies_too(server, boss):
    referrer, referee = lf.user(server), lf.user(server)
    answer = lf.post(server, "/api/referrals/apply", referee.headers, {"referral_code": lf.code_of(server, referrer)})
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "PENDING"


def test_unknown_code_is_404_and_changes_nothing(server, boss):
    before = counts(server)
    assert_error(lf.apply(server, lf.user(server), "REF-ZZZZZZZZ"), 404, "invalid_code")
    assert counts(server) == before


@pytest.mark.parametrize("body, code", [({}, "validation_error"), ({"referral_code": "   "}, "validation_error"),
                                         ({"referral_code": 42}, "validation_error"), ([1], "invalid_json")])
def test_missing_or_malformed_code_is_400(server, boss, body, code):
    assert_error(lf.post(server, "/api/referral/apply", lf.user(server).headers, body), 400, code)


def test_apply_needs_a_token(server):
    assert_error(lf.post(server, "/api/referral/apply", json={"referral_code": "REF-AAAAAAAA"}), 401,
                    "missing_token")


def test_own_code_is_self_referral(server, boss):
    someone = lf.user(server)
    before = counts(server)
    assert_error(lf.apply(server, someone, lf.code_of(server, someone)), 400, "self_referral")
    assert counts(server) == before


@pytest.mark.parametrize("alias", [
    lambda name: f"{name[:2]}.{name[2:5]}.{name[5:]}@gmail.com",
    lambda name: f"{name}+friend@gmail.com",
    lambda name: f"{name}@googlemail.com",
    lambda name: f"{name[:3]}.{name[3:]}+x+y@googlemail.com",
])
def test_gmail_alias_of_the_referrer_is_self_referral(server, boss, alias):
    name = "m" + uuid.uuid4().hex[:10]
    referrer = lf.user(server, email=f"{name}@gmail.com")
    twin = lf.user(server, email=alias(name))
    assert_error(lf.apply(server, twin, lf.code_of(server, referrer)), 400, "self_referral")
    assert server.query("SELECT COUNT(*) FROM referrals WHERE referee_id = %s", (twin.id,)) == [(0,)]


def test_dots_matter_outside_providers_that_ignore_them(server, boss):
    name = "d" + uuid.uuid4().hex[:10]
    referrer = lf.user(server, email=f"{name}@example.com")
    other = lf.user(server, email=f"{name[:3]}.{name[3:]}@example.com")
    assert lf.apply(server, other, lf.code_of(server, referrer)).status_code == 200


def test_second_apply_is_already_referred(server, boss):
    first, second, referee = lf.user(server), lf.user(server), lf.user(server)
    _, referral_id = lf.refer(server, first, referee)
    second_code = lf.code_of(server, second)
    assert_error(lf.apply(server, referee, second_code), 409, "already_referred")
    # Even the same code again.
    assert_error(lf.apply(server, referee, lf.code_of(server, first)), 409, "already_referred")
    assert server.query("SELECT id, referrer_id FROM referrals WHERE referee_id = %s", (referee.id,)) == [
        (referral_id, first.id)]
    assert server.query("SELECT uses FROM referral_codes WHERE code = %s", (second_code,)) == [(0,)]


def test_referee_code_is_refused_for_the_referrer(server, boss):
    a, b = lf.user(server), lf.user(server)
    lf.refer(server, a, b)
    assert_error(lf.apply(server, a, lf.code_of(server, b)), 400, "referral_cycle")
    assert server.query("SELECT COUNT(*) FROM referrals WHERE referee_id = %s", (a.id,)) == [(0,)]


def test_longer_cycle_is_refused(server, boss):
    a, b, c = lf.user(server), lf.user(server), lf.user(server)
    lf.refer(server, a, b)
    lf.refer(server, b, c)
    assert_error(lf.apply(server, a, lf.code_of(server, c)), 400, "referral_cycle")
    # A stranger may still use C's code.
    assert lf.apply(server, lf.user(server), lf.code_of(server, c)).status_code == 200


# Issue 12: the walk stopped at depth 64, so a 66-long chain could close.
def test_a_seventy_long_chain_cannot_close(server, boss):
    chain = [lf.user(server) for _ in range(CHAIN)]
    for referrer, referee in zip(chain, chain[1:]):
        lf.refer(server, referrer, referee)
    # chain[0] referred chain[1], ..., chain[68] referred chain[69]: chain[0]
    # is chain[69]'s referrer 69 levels up.
    assert_error(lf.apply(server, chain[0], lf.code_of(server, chain[-1])), 400, "referral_cycle")
    assert server.query("SELECT COUNT(*) FROM referrals WHERE referee_id = %s", (chain[0].id,)) == [(0,)]
    # The end of the chain still refers strangers.
    assert lf.apply(server, lf.user(server), lf.code_of(server, chain[-1])).status_code == 200
    invariants.check_all(server)


def test_a_cycle_already_in_the_data_does_not_hang_the_walk(server, boss):
    # Imported data (or a time with the rule off) may hold a loop: the walk
    # from any of its members must still end.
    a, b = lf.user(server), lf.user(server)
    lf.refer(server, a, b)
    server.query("UPDATE referrals SET referrer_id = %s WHERE referee_id = %s", (b.id, b.id))
    loop = invariants.referral_cycles(server)
    assert {row[0] for row in loop} == {b.id}
    stranger = lf.user(server)
    assert_error(lf.apply(server, b, lf.code_of(server, stranger)), 409, "already_referred")
    assert lf.apply(server, stranger, lf.code_of(server, b)).status_code == 200
    server.query("UPDATE referrals SET referrer_id = %s WHERE referee_id = %s", (a.id, b.id))


def test_apply_window_counts_from_signup(make_server):
    server = make_server(env=lf.env(REFERRAL_APPLY_WINDOW_DAYS=7))
    boss = lf.admin(server)
    lf.config(server, boss)
    referrer, late, in_time = lf.user(server), lf.user(server), lf.user(server)
    code = lf.code_of(server, referrer)
    server.query("UPDATE users SET created_at = created_at - %s WHERE id = %s", (8 * DAY_MS, late.id))
    server.query("UPDATE users SET created_at = created_at - %s WHERE id = %s", (6 * DAY_MS, in_time.id))
    assert_error(lf.apply(server, late, code), 409, "apply_window_closed")
    assert server.query("SELECT uses FROM referral_codes WHERE code = %s", (code,)) == [(0,)]
    assert lf.apply(server, in_time, code).status_code == 200


def test_default_window_is_30_days(server, boss):
    referrer, late = lf.user(server), lf.user(server)
    server.query("UPDATE users SET created_at = created_at - %s WHERE id = %s", (31 * DAY_MS, late.id))
    assert_error(lf.apply(server, late, lf.code_of(server, referrer)), 409, "apply_window_closed")


def test_code_cap_refuses_the_third_use(make_server):
    server = make_server(env=lf.env(REFERRAL_MAX_USES_PER_CODE=2))
    boss = lf.admin(server)
    lf.config(server, boss)
    referrer = lf.user(server)
    code = lf.code_of(server, referrer)
    for _ in range(2):
        lf.refer(server, referrer)
    third = lf.user(server)
    assert_error(lf.apply(server, third, code), 409, "code_exhausted")
    assert server.query("SELECT uses FROM referral_codes WHERE code = %s", (code,)) == [(2,)]
    assert server.query("SELECT COUNT(*) FROM referrals WHERE referee_id = %s", (third.id,)) == [(0,)]
    assert lf.stats_of(server, referrer.id) == (2, 0, 2, 0)
    # The refused referee can still use another code.
    assert lf.apply(server, third, lf.code_of(server, lf.user(server))).status_code == 200
    invariants.check_all(server)


def test_no_signup_config_refuses_and_changes_nothing(make_server):
    server = make_server(env=lf.env())
    boss = lf.admin(server)
    referrer, referee = lf.user(server), lf.user(server)
    code = lf.code_of(server, referrer)
    assert_error(lf.apply(server, referee, code), 409, "reward_config_missing")
    # A FIRST_ORDER config does not stand in for the missing SIGNUP one,
    # nor does a deactivated SIGNUP one.
    lf.config(server, boss, "FIRST_ORDER")
    signup = lf.config(server, boss)
    assert lf.post(server, f"/api/admin/reward-config/{signup['id']}/deactivate", boss.headers).status_code == 200
    assert_error(lf.apply(server, referee, code), 409, "reward_config_missing")
    assert counts(server) == (0, 0, 0)
    assert lf.stats_of(server, referrer.id) in (None, (0, 0, 0, 0))
    # Nothing was spent: once a config exists the same referee applies the same code.
    lf.config(server, boss)
    assert lf.apply(server, referee, code).status_code == 200
    assert counts(server) == (1, 1, 1)


def test_invariants_hold(server):
    invariants.check_all(server)
