"""Signup with `referral_code`: checked at signup, applied on verify."""

from __future__ import annotations

import pytest
import requests

import flows
import invariants
import ledger_flows as lf
from checks import assert_error


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from lf.module_server(databases, tmp_path_factory)


@pytest.fixture(scope="module")
def boss(server):
    boss = lf.admin(server)
    lf.config(server, boss)
    return boss


def signup_and_verify(server, email: str, code: str):
    answer = flows.signup(server, email, referral_code=code)
    assert answer.status_code == 201, answer.text
    return flows.verify(server, email, flows.latest_code(server, email))


def test_unknown_code_refuses_the_signup_and_creates_no_account(server, boss):
    email = flows.new_email()
    assert_error(flows.signup(server, email, referral_code="REF-ZZZZZZZZ"), 404, "invalid_code")
    assert server.query("SELECT COUNT(*) FROM users WHERE email = %s", (email,)) == [(0,)]
    assert not flows.mails_to(server, email)


def test_valid_code_is_applied_when_the_email_is_verified(server, boss):
    referrer = lf.user(server)
    code = lf.code_of(server, referrer)
    email = flows.new_email()
    answer = flows.signup(server, email, referral_code=f"  {code.lower()} ")
    assert answer.status_code == 201, answer.text
    # Not before verification.
    assert server.query("SELECT COUNT(*) FROM referrals WHERE referrer_id = %s", (referrer.id,)) == [(0,)]
    verified = flows.verify(server, email, flows.latest_code(server, email))
    assert verified.status_code == 200, verified.text
    assert verified.json()["valid"] is True
    assert verified.json()["referral"] == {"applied": True}
    referee_id = flows.user_id(server, email)
    rows = server.query("SELECT id, referrer_id, status FROM referrals WHERE referee_id = %s", (referee_id,))
    assert len(rows) == 1 and rows[0][1:] == (referrer.id, "PENDING")
    assert lf.reward_of(server, rows[0][0])["user_id"] == referrer.id
    assert lf.stats_of(server, referrer.id) == (1, 0, 1, 0)


def test_verify_without_a_code_says_nothing_about_referrals(server, boss):
    email = flows.new_email()
    assert flows.signup(server, email).status_code == 201
    verified = flows.verify(server, email, flows.latest_code(server, email))
    assert verified.status_code == 200
    assert "referral" not in verified.json()


def test_code_refused_at_verify_time_still_verifies_the_account(make_server):
    server = make_server(env=lf.env())
    boss = lf.admin(server)
    signup_config = lf.config(server, boss)
    referrer = lf.user(server)
    code = lf.code_of(server, referrer)
    email = flows.new_email()
    assert flows.signup(server, email, referral_code=code).status_code == 201
    # The config goes away between signup and verification.
    deactivated = lf.post(server, f"/api/admin/reward-config/{signup_config['id']}/deactivate", boss.headers)
    assert deactivated.status_code == 200
    verified = flows.verify(server, email, flows.latest_code(server, email))
    assert verified.status_code == 200, verified.text
    assert verified.json()["referral"] == {"applied": False, "code": "reward_config_missing"}
    assert server.query("SELECT is_verified FROM users WHERE email = %s", (email,)) in ([(1,)], [(True,)])
    assert server.query("SELECT COUNT(*) FROM referrals") == [(0,)]
    assert server.query("SELECT uses FROM referral_codes WHERE code = %s", (code,)) == [(0,)]
    assert flows.login(server, email).status_code == 200


def test_signup_code_of_a_gmail_twin_is_refused_at_verify(server, boss):
    referrer = lf.user(server, email="twin.check.a1@gmail.com")
    email = "twinchecka1+new@gmail.com"
    verified = signup_and_verify(server, email, lf.code_of(server, referrer))
    assert verified.status_code == 200, verified.text
    assert verified.json()["referral"] == {"applied": False, "code": "self_referral"}
    assert server.query("SELECT COUNT(*) FROM referrals WHERE referrer_id = %s", (referrer.id,)) == [(0,)]


def test_invariants_hold(server):
    invariants.check_all(server)


def test_signup_code_is_flagged_when_verified_from_the_referrers_ip(databases, tmp_path_factory):
    """The same-IP rule sees the IP of the verify-otp request that applies the code."""
    for server in lf.module_server(databases, tmp_path_factory, REFERRAL_FLAG_SAME_IP="true",
                                   TRUSTED_PROXIES="127.0.0.1"):
        boss = lf.admin(server)
        lf.config(server, boss)
        referrer = lf.user(server, ip="203.0.113.9")
        code = lf.code_of(server, referrer)
        for email, ip, flagged in ((flows.new_email(), "203.0.113.9", True),
                                   (flows.new_email(), "198.51.100.4", False)):
            assert flows.signup(server, email, referral_code=code).status_code == 201
            verified = requests.post(server.url("/api/auth/verify-otp"), headers={"X-Forwarded-For": ip},
                                     json={"email": email, "otp": flows.latest_code(server, email)}, timeout=30)
            assert verified.status_code == 200 and verified.json()["referral"] == {"applied": True}, verified.text
            row = server.query("SELECT is_flagged, ip FROM referrals WHERE referee_id = %s",
                               (flows.user_id(server, email),))
            assert row == [(1 if flagged else 0, ip)]
