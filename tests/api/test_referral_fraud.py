"""Fraud rules: same-IP and burst flags, and every rule's off switch.

The servers here trust 127.0.0.1 as a proxy, so X-Forwarded-For stands for
the client IP: the referrer logs in from one address and the referee
applies from the same or another one.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid

import pytest

import invariants
import ledger_flows as lf
from checks import assert_error

_hosts = itertools.count(1)


def new_ip() -> str:
    number = next(_hosts)
    return f"10.{number // 250}.{number % 250}.7"


def proxied(**overrides) -> dict:
    return lf.env(**{"TRUSTED_PROXIES": "127.0.0.1", "REFERRAL_FLAG_SAME_IP": "true", **overrides})


def xff(ip: str) -> dict:
    return {"X-Forwarded-For": ip}


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from lf.module_server(databases, tmp_path_factory, TRUSTED_PROXIES="127.0.0.1",
                                REFERRAL_FLAG_SAME_IP="true", REFERRAL_MAX_USES_PER_HOUR=3)


@pytest.fixture(scope="module")
def boss(server):
    boss = lf.admin(server)
    lf.config(server, boss, auto_credit=True)
    return boss


def flagged_list(server, boss) -> list[dict]:
    return [item for page in lf.all_pages(server, "/api/admin/referrals/flagged", boss.headers, limit=3)
            for item in page]


def stored_flags(server, referral_id: str) -> tuple[int, list]:
    is_flagged, flags = server.query("SELECT is_flagged, flags FROM referrals WHERE id = %s", (referral_id,))[0]
    return is_flagged, json.loads(flags) if flags else []


def test_same_ip_as_the_referrer_flags_the_referral(server, boss):
    ip = new_ip()
    referrer = lf.user(server, ip=ip)
    referee = lf.user(server, ip=new_ip())
    answer = lf.apply(server, referee, lf.code_of(server, referrer), **xff(ip))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "PENDING"
    assert [flag["rule"] for flag in body["flags"]] == ["same_ip"]
    assert ip in body["flags"][0]["detail"], body
    is_flagged, flags = stored_flags(server, body["referral_id"])
    assert is_flagged == 1 and [flag["rule"] for flag in flags] == ["same_ip"]
    listed = [item for item in flagged_list(server, boss) if item["referral_id"] == body["referral_id"]]
    assert len(listed) == 1, listed
    assert listed[0]["referee_id"] == referee.id and listed[0]["referrer_id"] == referrer.id
    assert [flag["rule"] for flag in listed[0]["flags"]] == ["same_ip"]
    # Flagged: the auto_credit config does not credit it.
    assert lf.reward_of(server, body["referral_id"])["status"] == "PENDING"
    assert lf.referral_status(server, body["referral_id"]) == "PENDING"


def test_same_ip_flags_even_after_the_referrer_logged_out(server, boss):
    # The rule reads the login history, not the live sessions: logging out
    # before the referee applies must not dodge it.
    ip = new_ip()
    referrer = lf.user(server, ip=ip)
    code = lf.code_of(server, referrer)
    assert lf.post(server, "/api/auth/logout", referrer.headers).status_code == 200
    assert server.query("SELECT COUNT(*) FROM sessions WHERE user_id = %s", (referrer.id,))[0][0] == 0
    referee = lf.user(server, ip=new_ip())
    answer = lf.apply(server, referee, code, **xff(ip))
    assert answer.status_code == 200, answer.text
    assert [flag["rule"] for flag in answer.json()["flags"]] == ["same_ip"]
    assert stored_flags(server, answer.json()["referral_id"])[0] == 1
    assert server.query("SELECT COUNT(*) FROM login_ips WHERE user_id = %s AND ip = %s",
                        (referrer.id, ip))[0][0] == 1


def test_same_ip_compares_an_ipv6_client_by_its_slash_64(server, boss):
    # A household or a server sends from many addresses of one /64: a
    # referee on another address of the referrer's /64 is the same client.
    network = f"2001:db8:{next(_hosts):x}"
    referrer = lf.user(server, ip=f"{network}:1::a")
    code = lf.code_of(server, referrer)
    assert server.query("SELECT ip FROM login_ips WHERE user_id = %s", (referrer.id,)) == [(f"{network}:1::/64",)]
    same_network = lf.apply(server, lf.user(server, ip=new_ip()), code, **xff(f"{network}:1:77::5"))
    assert same_network.status_code == 200, same_network.text
    assert [flag["rule"] for flag in same_network.json()["flags"]] == ["same_ip"]
    assert f"{network}:1:77::5" in same_network.json()["flags"][0]["detail"]
    next_network = lf.apply(server, lf.user(server, ip=new_ip()), code, **xff(f"{network}:2::a"))
    assert next_network.status_code == 200, next_network.text
    assert next_network.json()["flags"] == []


def test_a_login_address_recorded_whole_still_matches_itself(server, boss):
    # Rows written before logins were recorded by network hold the address.
    referrer = lf.user(server, ip=new_ip())
    address = f"2001:db8:{next(_hosts):x}:1::a"
    server.query("UPDATE login_ips SET ip = %s WHERE user_id = %s", (address, referrer.id))
    answer = lf.apply(server, lf.user(server, ip=new_ip()), lf.code_of(server, referrer), **xff(address))
    assert answer.status_code == 200, answer.text
    assert [flag["rule"] for flag in answer.json()["flags"]] == ["same_ip"]


def test_the_sweeper_forgets_login_addresses_after_30_days(make_server):
    server = make_server(env=proxied(SWEEP_INTERVAL="1s"))
    ip = new_ip()
    referrer = lf.user(server, ip=ip)
    day_ms = 24 * 3600 * 1000
    # 29 days old stays; 31 days old goes.
    server.query("UPDATE login_ips SET last_login_at = last_login_at - %s WHERE user_id = %s",
                 (29 * day_ms, referrer.id))
    other = lf.user(server, ip=new_ip())
    server.query("UPDATE login_ips SET last_login_at = last_login_at - %s WHERE user_id = %s",
                 (31 * day_ms, other.id))
    deadline = time.monotonic() + 10
    while server.query("SELECT COUNT(*) FROM login_ips WHERE user_id = %s", (other.id,))[0][0] != 0:
        assert time.monotonic() < deadline, "the sweeper kept a 31-day-old login address"
        time.sleep(0.2)
    assert server.query("SELECT COUNT(*) FROM login_ips WHERE user_id = %s", (referrer.id,))[0][0] == 1


def test_another_ip_is_not_flagged_and_auto_credits(server, boss):
    referrer = lf.user(server, ip=new_ip())
    referee = lf.user(server, ip=new_ip())
    answer = lf.apply(server, referee, lf.code_of(server, referrer), **xff(new_ip()))
    assert answer.status_code == 200, answer.text
    referral_id = answer.json()["referral_id"]
    assert stored_flags(server, referral_id) == (0, [])
    assert referral_id not in {item["referral_id"] for item in flagged_list(server, boss)}
    assert lf.reward_of(server, referral_id)["status"] == "CREDITED"
    assert lf.referral_status(server, referral_id) == "SUCCESS"


def test_burst_of_uses_within_an_hour_is_flagged(server, boss):
    referrer = lf.user(server, ip=new_ip())
    code = lf.code_of(server, referrer)
    rules = []
    for _ in range(5):
        answer = lf.apply(server, lf.user(server, ip=new_ip()), code, **xff(new_ip()))
        assert answer.status_code == 200, answer.text
        rules.append([flag["rule"] for flag in answer.json()["flags"]])
    # REFERRAL_MAX_USES_PER_HOUR=3: the fourth and fifth use are the burst.
    assert rules == [[], [], [], ["burst"], ["burst"]]
    assert "(limit 3)" in answer.json()["flags"][0]["detail"], answer.json()
    statuses = server.query("SELECT r.is_flagged, w.status FROM referrals r JOIN rewards w ON w.referral_id = r.id "
                            "WHERE r.referrer_id = %s ORDER BY r.created_at, r.id", (referrer.id,))
    assert statuses == [(0, "CREDITED")] * 3 + [(1, "PENDING")] * 2


def test_uses_older_than_an_hour_do_not_count_for_a_burst(server, boss):
    referrer = lf.user(server, ip=new_ip())
    code = lf.code_of(server, referrer)
    for _ in range(3):
        assert lf.apply(server, lf.user(server, ip=new_ip()), code, **xff(new_ip())).status_code == 200
    server.query("UPDATE referrals SET created_at = created_at - %s WHERE referrer_id = %s",
                 (2 * 3600 * 1000, referrer.id))
    answer = lf.apply(server, lf.user(server, ip=new_ip()), code, **xff(new_ip()))
    assert answer.json()["flags"] == []


def test_flagged_referral_gets_no_automatic_first_order_credit(server, boss):
    lf.config(server, boss, "FIRST_ORDER", 500, "CASH", auto_credit=True)
    ip = new_ip()
    referrer = lf.user(server, ip=ip)
    referee = lf.user(server, ip=new_ip())
    referral_id = lf.apply(server, referee, lf.code_of(server, referrer), **xff(ip)).json()["referral_id"]
    answer = lf.event(server, boss, uuid.uuid4().hex, user_id=referee.id)
    assert answer.status_code == 201, answer.text
    assert [reward["status"] for reward in answer.json()["rewards"]] == ["PENDING"]
    assert {r["reward_type"]: r["status"] for r in lf.rewards_of(server, referral_id)} == {
        "SIGNUP": "PENDING", "FIRST_ORDER": "PENDING"}
    # An admin who reviewed it may still credit it by hand.
    assert lf.credit(server, boss, lf.reward_of(server, referral_id)["id"]).status_code == 200
    assert lf.referral_status(server, referral_id) == "SUCCESS"


def test_flagged_list_is_admin_only(server, boss):
    someone = lf.user(server)
    assert_error(lf.get(server, "/api/admin/referrals/flagged", someone.headers), 403, "forbidden")
    assert_error(lf.get(server, "/api/admin/referrals/flagged"), 401, "missing_token")


def test_all_test_clients_share_one_ip_so_same_ip_flags_by_default(make_server):
    server = make_server(env=lf.env(REFERRAL_FLAG_SAME_IP="true"))
    boss = lf.admin(server)
    lf.config(server, boss)
    _, referral_id = lf.refer(server, lf.user(server))
    assert [flag["rule"] for flag in stored_flags(server, referral_id)[1]] == ["same_ip"]


def test_same_ip_rule_can_be_switched_off(make_server):
    server = make_server(env=proxied(REFERRAL_FLAG_SAME_IP="false"))
    boss = lf.admin(server)
    lf.config(server, boss)
    ip = new_ip()
    referrer = lf.user(server, ip=ip)
    answer = lf.apply(server, lf.user(server, ip=ip), lf.code_of(server, referrer), **xff(ip))
    assert answer.status_code == 200 and answer.json()["flags"] == []
    assert stored_flags(server, answer.json()["referral_id"]) == (0, [])


def test_burst_rule_is_off_at_zero(make_server):
    server = make_server(env=proxied(REFERRAL_MAX_USES_PER_HOUR=0))
    boss = lf.admin(server)
    lf.config(server, boss)
    referrer = lf.user(server, ip=new_ip())
    code = lf.code_of(server, referrer)
    for _ in range(6):
        answer = lf.apply(server, lf.user(server, ip=new_ip()), code, **xff(new_ip()))
        assert answer.status_code == 200 and answer.json()["flags"] == [], answer.text
    assert server.query("SELECT COUNT(*) FROM referrals WHERE is_flagged = 1") == [(0,)]


def test_cycle_rule_can_be_switched_off(make_server):
    server = make_server(env=lf.env(REFERRAL_BLOCK_CYCLES="false"))
    boss = lf.admin(server)
    lf.config(server, boss)
    a, b = lf.user(server), lf.user(server)
    lf.refer(server, a, b)
    assert lf.apply(server, a, lf.code_of(server, b)).status_code == 200
    assert {row[0] for row in invariants.referral_cycles(server)} == {a.id, b.id}
    invariants.check_all(server, skip=(invariants.no_referral_cycles,))


def test_alias_rule_can_be_switched_off(make_server):
    server = make_server(env=lf.env(REFERRAL_BLOCK_ALIASES="false"))
    boss = lf.admin(server)
    lf.config(server, boss)
    name = "a" + uuid.uuid4().hex[:10]
    referrer = lf.user(server, email=f"{name}@gmail.com")
    twin = lf.user(server, email=f"{name[:4]}.{name[4:]}+2@googlemail.com")
    assert lf.apply(server, twin, lf.code_of(server, referrer)).status_code == 200
    # The plain rule stays: one's very own code is still refused.
    assert_error(lf.apply(server, referrer, lf.code_of(server, referrer)), 400, "self_referral")


def test_invariants_hold(server):
    invariants.check_all(server)
