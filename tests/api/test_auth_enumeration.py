"""No answer tells an address with an account from one without (docs/API.md,
accounts): the login lockout, the per-code and per-day code-try ceilings,
and expired codes answer alike for known and unknown emails, status, code
and Retry-After. Counters are kept per normalized email, account or not."""

from __future__ import annotations

import time

import requests

import flows
from auth_checks import UNLIMITED, other_code, post, resend, signed_up
from checks import assert_error

WRONG_PASSWORD = "not the password 1"
DAY_S = 24 * 3600


def answer_of(response: requests.Response) -> tuple:
    """What a client can compare: status, error code, Retry-After."""
    code = response.json().get("code") if response.status_code >= 400 else None
    return response.status_code, code, response.headers.get("Retry-After")


def verify(server, email: str, code: str) -> requests.Response:
    return flows.verify(server, email, code)


def reset(server, email: str, code: str) -> requests.Response:
    return post(server, "/api/auth/password/reset", {"email": email, "otp": code, "new_password": "new password 12"})


# -- login lockout


def test_login_lockout_answers_alike_for_unknown_emails(make_server):
    server = make_server(env={**UNLIMITED, "LOGIN_MAX_FAILURES": "3"})
    known = flows.register(server)
    unknown = flows.new_email("nobody")
    answers = {}
    for email in (known, unknown):
        answers[email] = [answer_of(flows.login(server, email, WRONG_PASSWORD)) for _ in range(4)]
    assert answers[known] == answers[unknown], answers
    assert [status for status, _, _ in answers[known]] == [401, 401, 401, 429]
    assert answers[known][3][1:] == ("too_many_attempts", "1")
    assert server.query("SELECT failures FROM login_failures WHERE email = %s", (unknown,))[0][0] == 3


# -- code tries


def test_verify_otp_attempts_exceeded_answers_alike_for_unknown_emails(make_server):
    server = make_server(env={**UNLIMITED, "OTP_RESEND_COOLDOWN": "1s"})
    known, code = signed_up(server)
    unknown = flows.new_email("nobody")
    assert resend(server, unknown).status_code == 200  # what an attacker would do first
    answers = {email: [answer_of(verify(server, email, other_code(code))) for _ in range(6)]
               for email in (known, unknown)}
    assert answers[known] == answers[unknown], answers
    assert answers[known][4:] == [(400, "invalid_otp", None), (429, "otp_attempts_exceeded", "60")]


def test_password_reset_attempts_exceeded_answers_alike_for_unknown_emails(make_server):
    server = make_server(env={**UNLIMITED, "OTP_RESEND_COOLDOWN": "1s"})
    known = flows.register(server)
    unknown = flows.new_email("nobody")
    for email in (known, unknown):
        assert post(server, "/api/auth/password/forgot", {"email": email}).status_code == 200
    answers = {email: [answer_of(reset(server, email, "000000")) for _ in range(6)] for email in (known, unknown)}
    assert answers[known] == answers[unknown], answers
    assert answers[known][5] == (429, "otp_attempts_exceeded", "60")


def test_a_wrong_guess_at_an_expired_code_is_invalid_like_for_unknown_emails(make_server):
    server = make_server(env={**UNLIMITED, "OTP_TTL": "1s"})
    known, code = signed_up(server)
    time.sleep(1.5)
    unknown = flows.new_email("nobody")
    assert answer_of(verify(server, known, other_code(code))) == (400, "invalid_otp", None)
    assert answer_of(verify(server, unknown, other_code(code))) == (400, "invalid_otp", None)
    # Only the holder of the right code learns that it expired.
    assert_error(verify(server, known, code), 400, "otp_expired")


def wrong_tries_across_codes(server, email: str, code: str | None) -> list[tuple]:
    """Twenty wrong tries over four codes, then a new code and a try."""
    answers = []
    for round_number in range(4):
        if round_number:
            time.sleep(1.1)  # the resend cooldown
            answers.append(answer_of(resend(server, email)))
        for _ in range(5):
            answers.append(answer_of(verify(server, email, other_code(code or "123456"))))
    time.sleep(1.1)
    refused = resend(server, email)
    answers.append(refused.status_code)
    answers.append(verify(server, email, code or "123456").status_code)
    return answers, refused


def test_twenty_wrong_tries_a_day_refuse_new_codes_and_tries_alike_for_unknown_emails(make_server):
    server = make_server(env={**UNLIMITED, "OTP_RESEND_COOLDOWN": "1s"})
    known, code = signed_up(server)
    unknown = flows.new_email("nobody")
    assert resend(server, unknown).status_code == 200
    known_answers, known_refusal = wrong_tries_across_codes(server, known, code)
    unknown_answers, unknown_refusal = wrong_tries_across_codes(server, unknown, None)
    assert known_answers == unknown_answers, (known_answers, unknown_answers)
    assert known_answers.count((400, "invalid_otp", None)) == 20
    assert known_answers[-2:] == [429, 429]
    for refusal in (known_refusal, unknown_refusal):
        assert_error(refusal, 429, "otp_daily_limit")
        assert DAY_S - 120 <= int(refusal.headers["Retry-After"]) <= DAY_S
    # Even the newest right code is refused until the window has passed.
    newest = flows.latest_code(server, known)
    assert_error(verify(server, known, newest), 429, "otp_daily_limit")
    assert not server.query("SELECT is_verified FROM users WHERE email = %s", (known,))[0][0]
    # A new signup of the address is a new code too: refused.
    assert_error(flows.signup(server, known), 429, "otp_daily_limit")
    assert server.query("SELECT window_tries FROM code_requests WHERE email = %s AND purpose = 'signup'",
                        (unknown,))[0][0] == 20


def test_the_window_passes(make_server):
    server = make_server(env={**UNLIMITED, "OTP_RESEND_COOLDOWN": "1s"})
    email, _ = signed_up(server)
    # A full window that began just over a day ago no longer counts.
    server.query("UPDATE code_requests SET window_tries = 20, window_started_at = %s, requested_at = 0 "
                 "WHERE email = %s", (int(time.time() * 1000) - DAY_S * 1000 - 1000, email))
    seen = len(flows.mails_to(server, email))
    assert resend(server, email).status_code == 200
    assert flows.verify(server, email, flows.latest_code(server, email, seen)).status_code == 200


def test_a_right_code_is_not_counted_against_the_day(make_server):
    server = make_server(env={**UNLIMITED, "OTP_RESEND_COOLDOWN": "1s"})
    email, code = signed_up(server)
    assert_error(verify(server, email, other_code(code)), 400, "invalid_otp")
    assert verify(server, email, code).status_code == 200
    assert server.query("SELECT window_tries FROM code_requests WHERE email = %s", (email,))[0][0] == 1
