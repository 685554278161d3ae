"""One-time codes: verify-otp and resend-otp — wrong, exhausted,
expired and used codes, hashing at rest, the resend cooldown (with no
enumeration) and newest-code-only."""

from __future__ import annotations

import re
import time

import pytest
import requests

import flows
from auth_checks import UNLIMITED, module_server, other_code, resend, signed_up
from checks import JSON_TYPE, assert_error, assert_retry_after

VERIFIED = {"valid": True, "message": "OTP verified successfully. You can now log in."}
COOLDOWN_S = 2


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from module_server(databases, tmp_path_factory, {**UNLIMITED, "OTP_RESEND_COOLDOWN": f"{COOLDOWN_S}s"})


def is_verified(server, email: str) -> bool:
    return bool(server.query("SELECT is_verified FROM users WHERE email = %s", (email,))[0][0])


def wait_cooldown() -> None:
    time.sleep(COOLDOWN_S + 0.2)


def fresh_code(server, email: str) -> str:
    """A new code for `email` through resend-otp, once the cooldown allows it."""
    seen = len(flows.mails_to(server, email))
    answer = resend(server, email)
    assert answer.status_code == 200, answer.text
    return flows.latest_code(server, email, seen)


# -- verify-otp


def test_right_code_verifies_the_email(server):
    email, code = signed_up(server)
    response = flows.verify(server, email, code)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == JSON_TYPE
    assert response.json() == VERIFIED
    assert is_verified(server, email)


def test_email_in_verify_is_normalized_too(server):
    email, code = signed_up(server)
    assert flows.verify(server, f"  {email.upper()} ", code).status_code == 200
    assert is_verified(server, email)


def test_wrong_code_is_400_invalid_otp(server):
    email, code = signed_up(server)
    assert_error(flows.verify(server, email, other_code(code)), 400, "invalid_otp")
    assert not is_verified(server, email)
    assert flows.verify(server, email, code).status_code == 200  # one wrong try does not kill it


def test_unknown_email_is_invalid_otp(server):
    assert_error(flows.verify(server, flows.new_email("nobody"), "123456"), 400, "invalid_otp")


@pytest.mark.parametrize("field", ["email", "otp"])
def test_missing_field_is_a_validation_error(server, field):
    body = {"email": flows.new_email(), "otp": "123456"}
    del body[field]
    answer = assert_error(requests.post(server.url("/api/auth/verify-otp"), json=body, timeout=30),
                          400, "validation_error")
    assert field in answer["error"]


def test_four_wrong_tries_still_leave_the_code_usable(server):
    email, code = signed_up(server)
    for _ in range(4):
        assert_error(flows.verify(server, email, other_code(code)), 400, "invalid_otp")
    assert flows.verify(server, email, code).status_code == 200


def test_after_five_wrong_tries_even_the_right_code_is_429(server):
    email, code = signed_up(server)
    for _ in range(5):
        assert_error(flows.verify(server, email, other_code(code)), 400, "invalid_otp")
    response = flows.verify(server, email, code)
    assert_error(response, 429, "otp_attempts_exceeded")
    assert_retry_after(response)
    assert not is_verified(server, email)
    # Still dead on the next try: more guesses do not revive it.
    assert_error(flows.verify(server, email, code), 429, "otp_attempts_exceeded")


def test_a_new_code_after_too_many_wrong_tries_works(server):
    email, code = signed_up(server)
    for _ in range(5):
        flows.verify(server, email, other_code(code))
    assert_error(flows.verify(server, email, code), 429, "otp_attempts_exceeded")
    wait_cooldown()
    new_code = fresh_code(server, email)
    response = flows.verify(server, email, new_code)
    assert response.status_code == 200, response.text
    assert response.json() == VERIFIED


def test_expired_code_is_400_otp_expired(make_server):
    server = make_server(env={**UNLIMITED, "OTP_TTL": "1s"})
    email, code = signed_up(server)
    time.sleep(1.5)
    assert_error(flows.verify(server, email, code), 400, "otp_expired")
    assert not is_verified(server, email)


def test_expired_code_still_says_expired_after_the_sweeper_ran(make_server):
    # Purging a code the moment it expires would turn "expired" into
    # "invalid" for anyone a little late.
    server = make_server(env={**UNLIMITED, "OTP_TTL": "1s", "SWEEP_INTERVAL": "1s"})
    email, code = signed_up(server)
    time.sleep(3.5)  # expired, and at least two sweeps since
    assert_error(flows.verify(server, email, code), 400, "otp_expired")


def test_a_used_code_cannot_be_used_again(server):
    email, code = signed_up(server)
    assert flows.verify(server, email, code).status_code == 200
    assert_error(flows.verify(server, email, code), 400, "invalid_otp")
    used = server.query("SELECT o.used_at FROM otps o JOIN users u ON u.id = o.user_id "
                        "WHERE u.email = %s AND o.purpose = 'signup'", (email,))
    assert used and used[0][0] is not None


def test_code_is_six_digits_and_stored_only_as_a_hash(server):
    email, code = signed_up(server)
    assert re.fullmatch(r"\d{6}", code)
    mail = flows.mails_to(server, email)[-1]["text"]
    assert re.findall(r"(?<!\d)\d{6}(?!\d)", mail) == [code]
    rows = server.query("SELECT o.code_hash FROM otps o JOIN users u ON u.id = o.user_id "
                        "WHERE u.email = %s", (email,))
    assert len(rows) == 1
    code_hash = rows[0][0]
    assert code not in code_hash and len(code_hash) >= 32
    # Nor anywhere else in plain text: the queued mail is sealed.
    payloads = server.query("SELECT payload FROM outbox WHERE recipient = %s", (email,))
    assert payloads and all(code not in payload for (payload,) in payloads)


def test_codes_differ_between_signups(server):
    codes = {signed_up(server)[1] for _ in range(8)}
    assert len(codes) >= 7  # from a CSPRNG, not a counter or a constant


# -- resend-otp


def test_resend_answers_the_same_for_known_unknown_and_verified_emails(server):
    unverified, _ = signed_up(server)
    verified = flows.register(server)
    unknown = flows.new_email("nobody")
    wait_cooldown()
    answers = [resend(server, email) for email in (unverified, unknown, verified)]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"] == JSON_TYPE
    bodies = [answer.json() for answer in answers]
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["valid"] is True and isinstance(bodies[0]["message"], str)
    assert set(bodies[0]) == {"valid", "message"}
    # Only the unverified account gets a new code.
    flows.latest_code(server, unverified, seen=1)
    assert server.query("SELECT COUNT(*) FROM outbox WHERE recipient = %s", (unknown,))[0][0] == 0
    assert server.query("SELECT COUNT(*) FROM outbox WHERE recipient = %s", (verified,))[0][0] == 1


def test_second_resend_within_the_cooldown_is_429_for_known_and_unknown(server):
    known, _ = signed_up(server)
    unknown = flows.new_email("nobody")
    wait_cooldown()
    assert resend(server, known).status_code == 200
    assert resend(server, unknown).status_code == 200
    again = [resend(server, known), resend(server, unknown)]
    for answer in again:
        assert_error(answer, 429, "otp_cooldown")
        assert_retry_after(answer, 1, COOLDOWN_S)
    assert again[0].json() == again[1].json()


def test_resend_right_after_signup_is_429_until_the_default_cooldown_passes(make_server):
    server = make_server(env=UNLIMITED)  # OTP_RESEND_COOLDOWN defaults to one minute
    email, _ = signed_up(server)
    answer = resend(server, email)
    assert_error(answer, 429, "otp_cooldown")
    assert_retry_after(answer, 50, 60)
    unknown = flows.new_email("nobody")
    assert resend(server, unknown).status_code == 200
    answer = resend(server, unknown)
    assert_error(answer, 429, "otp_cooldown")
    assert_retry_after(answer, 50, 60)


def test_only_the_newest_code_is_valid(server):
    email, old_code = signed_up(server)
    wait_cooldown()
    new_code = fresh_code(server, email)
    if new_code != old_code:  # one chance in a million that they are the same digits
        assert_error(flows.verify(server, email, old_code), 400, "invalid_otp")
    assert flows.verify(server, email, new_code).status_code == 200
