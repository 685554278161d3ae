"""password/forgot and password/reset."""

from __future__ import annotations

import pytest

import flows
from auth_checks import UNLIMITED, module_server, other_code, post, session_token, signed_up, verify_session
from checks import JSON_TYPE, assert_error

NEW_PASSWORD = "a brand new secret 7"
RESET_SUBJECT = "Your password reset code"


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from module_server(databases, tmp_path_factory, UNLIMITED)


def forgot(server, email: str):
    return post(server, "/api/auth/password/forgot", {"email": email})


def reset(server, email: str, otp: str, new_password: str = NEW_PASSWORD):
    return post(server, "/api/auth/password/reset", {"email": email, "otp": otp, "new_password": new_password})


def reset_mails(server, email: str) -> list[dict]:
    return [mail for mail in flows.mails_to(server, email) if mail.get("subject") == RESET_SUBJECT]


def reset_code(server, email: str) -> str:
    """Asks for a reset code and returns it, read from the mail."""
    seen = len(flows.mails_to(server, email))
    answer = forgot(server, email)
    assert answer.status_code == 200, answer.text
    return flows.latest_code(server, email, seen)


def outbox_count(server, email: str) -> int:
    return server.query("SELECT COUNT(*) FROM outbox WHERE recipient = %s", (email,))[0][0]


# -- forgot


def test_forgot_answers_the_same_for_unknown_unverified_and_verified(server):
    verified = flows.register(server)
    unverified, _ = signed_up(server)
    unknown = flows.new_email("nobody")
    answers = [forgot(server, email) for email in (unknown, unverified, verified)]
    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"] == JSON_TYPE
    bodies = [answer.json() for answer in answers]
    assert bodies[0] == bodies[1] == bodies[2]
    assert bodies[0]["valid"] is True and isinstance(bodies[0]["message"], str)
    # Only the verified account is mailed a code.
    code = flows.latest_code(server, verified, seen=1)
    assert reset_mails(server, verified) and code
    assert outbox_count(server, unknown) == 0
    assert outbox_count(server, unverified) == 1  # its signup code, nothing more
    assert reset_mails(server, unverified) == []


def test_reset_mail_code_is_stored_as_a_hash_for_its_own_purpose(server):
    email = flows.register(server)
    code = reset_code(server, email)
    rows = server.query("SELECT o.code_hash FROM otps o JOIN users u ON u.id = o.user_id "
                        "WHERE u.email = %s AND o.purpose = 'password_reset'", (email,))
    assert len(rows) == 1 and code not in rows[0][0]


# -- reset


def test_reset_sets_the_new_password_and_ends_every_session(server):
    email = flows.register(server)
    tokens = [flows.token_for(server, email) for _ in range(2)]
    code = reset_code(server, email)
    response = reset(server, email, code)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == JSON_TYPE
    assert response.json()["valid"] is True
    for token in tokens:
        assert_error(verify_session(server, token), 401, "session_invalid")
    assert_error(flows.login(server, email), 401, "invalid_credentials")
    login = flows.login(server, email, NEW_PASSWORD)
    assert login.status_code == 200, login.text
    stored = server.query("SELECT password_hash FROM users WHERE email = %s", (email,))[0][0]
    assert stored.startswith("$argon2id$") and NEW_PASSWORD not in stored


def test_reset_with_a_wrong_code_is_invalid_otp_and_changes_nothing(server):
    email, token = session_token(server)
    code = reset_code(server, email)
    assert_error(reset(server, email, other_code(code)), 400, "invalid_otp")
    assert verify_session(server, token).status_code == 200
    assert flows.login(server, email).status_code == 200
    assert reset(server, email, code).status_code == 200  # one wrong try does not kill it


def test_reset_without_asking_for_a_code_is_invalid_otp(server):
    email = flows.register(server)
    assert_error(reset(server, email, "123456"), 400, "invalid_otp")
    assert_error(reset(server, flows.new_email("nobody"), "123456"), 400, "invalid_otp")


def test_the_signup_code_is_no_reset_code(server):
    email, code = signed_up(server)
    assert_error(reset(server, email, code), 400, "invalid_otp")


def test_a_used_reset_code_cannot_be_used_again(server):
    email = flows.register(server)
    code = reset_code(server, email)
    assert reset(server, email, code).status_code == 200
    assert_error(reset(server, email, code, "yet another secret 8"), 400, "invalid_otp")
    assert flows.login(server, email, NEW_PASSWORD).status_code == 200


def test_five_wrong_reset_codes_kill_the_code(server):
    email = flows.register(server)
    code = reset_code(server, email)
    for _ in range(5):
        assert_error(reset(server, email, other_code(code)), 400, "invalid_otp")
    assert_error(reset(server, email, code), 429, "otp_attempts_exceeded")
    assert flows.login(server, email).status_code == 200


@pytest.mark.parametrize("new_password", ["x" * 7, "x" * 129, None])
def test_a_bad_new_password_is_a_validation_error_naming_it(server, new_password):
    email = flows.register(server)
    code = reset_code(server, email)
    body = {"email": email, "otp": code}
    if new_password is not None:
        body["new_password"] = new_password
    answer = assert_error(post(server, "/api/auth/password/reset", body), 400, "validation_error")
    assert "new_password" in answer["error"], answer
    # The refusal did not spend the code.
    assert reset(server, email, code).status_code == 200


def test_a_new_password_equal_to_the_email_is_refused(server):
    email = flows.register(server)
    code = reset_code(server, email)
    answer = assert_error(reset(server, email, code, email), 400, "validation_error")
    assert "new_password" in answer["error"], answer
    assert flows.login(server, email).status_code == 200
