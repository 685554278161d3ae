"""Signup attempts (docs/API.md, accounts): a code verifies only the attempt
it was sent for. A second signup of a still-unverified email replaces the
first; the mailbox owner must not verify the second one's password by
entering the newest code. signup_id binds code and attempt; without it,
email + otp verifies only an attempt that replaced no live one."""

from __future__ import annotations

import time

import pytest
import requests

import flows
from auth_checks import UNLIMITED, module_server
from checks import assert_error

COOLDOWN_S = 1
REPLACED = "replaced an earlier one"


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from module_server(databases, tmp_path_factory, {**UNLIMITED, "OTP_RESEND_COOLDOWN": f"{COOLDOWN_S}s"})


def attempt(server, email: str, password: str) -> tuple[str, str]:
    """Signs up; returns (signup_id, the code mailed for it)."""
    seen = len(flows.mails_to(server, email))
    answer = flows.signup(server, email, password)
    assert answer.status_code == 201, answer.text
    return answer.json()["signup_id"], flows.latest_code(server, email, seen)


def verify(server, email: str, code: str, signup_id: str | None = None) -> requests.Response:
    body = {"email": email, "otp": code}
    if signup_id is not None:
        body["signup_id"] = signup_id
    return requests.post(server.url("/api/auth/verify-otp"), json=body, timeout=30)


def victim_then_attacker(server) -> tuple[str, str, str, str]:
    """The owner signs up, then someone else signs up the same address while
    the owner's code is live. Returns (email, owner's id, attacker's id, the
    newest code, which only the mailbox owner sees)."""
    email = flows.new_email("victim")
    owner_id, _ = attempt(server, email, "owner password 1")
    time.sleep(COOLDOWN_S + 0.2)
    attacker_id, code = attempt(server, email, "attacker password 1")
    return email, owner_id, attacker_id, code


def verified(server, email: str) -> bool:
    return bool(server.query("SELECT is_verified FROM users WHERE email = %s", (email,))[0][0])


def test_a_single_attempt_verifies_with_email_and_otp_alone(server):
    email = flows.new_email()
    _, code = attempt(server, email, flows.PASSWORD)
    assert verify(server, email, code).status_code == 200
    assert flows.login(server, email).status_code == 200


def test_a_single_attempt_verifies_with_its_signup_id(server):
    email = flows.new_email()
    signup_id, code = attempt(server, email, flows.PASSWORD)
    assert verify(server, email, code, signup_id).status_code == 200


def test_the_newest_code_alone_does_not_verify_a_replacing_attempt(server):
    email, _, _, code = victim_then_attacker(server)
    assert_error(verify(server, email, code), 409, "signup_superseded")
    assert not verified(server, email)
    assert_error(flows.login(server, email, "attacker password 1"), 403, "email_not_verified")


def test_the_earlier_attempts_id_does_not_verify_the_newer_attempt(server):
    email, owner_id, _, code = victim_then_attacker(server)
    assert_error(verify(server, email, code, owner_id), 409, "signup_superseded")
    assert not verified(server, email)


def test_the_code_is_spent_by_a_superseded_answer(server):
    # So the answer cannot be retried into a verification, and the owner's
    # next signup is a single attempt again.
    email, _, attacker_id, code = victim_then_attacker(server)
    assert_error(verify(server, email, code), 409, "signup_superseded")
    assert_error(verify(server, email, code, attacker_id), 400, "invalid_otp")
    assert not verified(server, email)


def test_signing_up_again_after_superseded_works_with_email_and_otp(server):
    # What the original's clients (email + otp only) do on 409: sign up again.
    email, _, _, code = victim_then_attacker(server)
    assert_error(verify(server, email, code), 409, "signup_superseded")
    time.sleep(COOLDOWN_S + 0.2)
    _, new_code = attempt(server, email, "owner password 2")
    assert verify(server, email, new_code).status_code == 200
    assert flows.login(server, email, "owner password 2").status_code == 200
    assert_error(flows.login(server, email, "attacker password 1"), 401, "invalid_credentials")


def test_the_replacing_attempt_verifies_with_its_own_signup_id(server):
    email, _, attacker_id, code = victim_then_attacker(server)
    assert verify(server, email, code, attacker_id).status_code == 200
    assert verified(server, email)


def test_a_wrong_code_with_a_stale_signup_id_is_just_invalid(server):
    # 409 only for the right code: the answer tells nothing to a guesser.
    email, owner_id, _, code = victim_then_attacker(server)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert_error(verify(server, email, wrong, owner_id), 400, "invalid_otp")


def test_replacing_an_attempt_whose_code_expired_is_a_single_attempt(make_server):
    server = make_server(env={**UNLIMITED, "OTP_RESEND_COOLDOWN": "1s", "OTP_TTL": "1s"})
    email = flows.new_email()
    attempt(server, email, "first password 1")
    time.sleep(1.3)
    _, code = attempt(server, email, "second password 2")
    assert verify(server, email, code).status_code == 200
    assert flows.login(server, email, "second password 2").status_code == 200


def test_the_mail_of_a_repeated_signup_says_it_replaced_an_earlier_one(server):
    email, _, _, _ = victim_then_attacker(server)
    first, second = (mail["text"] for mail in flows.mails_to(server, email))
    assert REPLACED not in first
    assert REPLACED in second


def test_a_made_up_signup_id_does_not_verify(server):
    email = flows.new_email()
    _, code = attempt(server, email, flows.PASSWORD)
    assert_error(verify(server, email, code, "not-the-id"), 409, "signup_superseded")
    assert not verified(server, email)


def test_signup_id_must_be_a_string(server):
    email = flows.new_email()
    _, code = attempt(server, email, flows.PASSWORD)
    answer = requests.post(server.url("/api/auth/verify-otp"),
                           json={"email": email, "otp": code, "signup_id": 7}, timeout=30)
    assert_error(answer, 400, "validation_error")
