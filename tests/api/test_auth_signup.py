"""Signup: the answer, what is stored, the input rules, and what
becomes of an earlier signup of the same email."""

from __future__ import annotations

import time

import pytest
import requests

import flows
from auth_checks import UNLIMITED, module_server, post, signed_up
from checks import JSON_TYPE, assert_error, assert_retry_after

SIGNUP_OK = {"valid": True, "message": "OTP sent to your email."}
COOLDOWN_S = 1


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    # A short resend cooldown: re-signing up an unverified email waits it out.
    yield from module_server(databases, tmp_path_factory, {**UNLIMITED, "OTP_RESEND_COOLDOWN": f"{COOLDOWN_S}s"})


def signup_body(**fields) -> dict:
    body = {"name": "Ada Lovelace", "email": flows.new_email(), "password": flows.PASSWORD}
    body.update(fields)
    return {name: value for name, value in body.items() if value is not None}


def assert_signup_ok(response) -> str:
    """The SPEC body plus this attempt's signup_id; returns the id."""
    assert response.status_code == 201, response.text
    body = response.json()
    signup_id = body.pop("signup_id")
    assert body == SIGNUP_OK
    assert isinstance(signup_id, str) and len(signup_id) >= 16, signup_id
    return signup_id


def user_row(server, email: str):
    rows = server.query("SELECT id, name, email, is_verified, is_admin, password_hash FROM users "
                        "WHERE email = %s", (email,))
    assert len(rows) <= 1, rows
    return rows[0] if rows else None


def test_signup_answers_201_with_the_spec_body(server):
    body = signup_body()
    response = post(server, "/api/auth/signup", body)
    assert response.headers["Content-Type"] == JSON_TYPE
    signup_id = assert_signup_ok(response)
    assert server.query("SELECT signup_id FROM users WHERE email = %s", (body["email"],))[0][0] == signup_id
    row = user_row(server, body["email"])
    assert row is not None
    assert row[1] == "Ada Lovelace"
    assert (bool(row[3]), bool(row[4])) == (False, False)  # unverified, not an admin


def test_signup_mails_a_code_to_the_address(server):
    email, code = signed_up(server)
    assert len(code) == 6 and code.isdigit()
    assert flows.mails_to(server, email)


def test_email_is_trimmed_and_lower_cased(server):
    email = flows.new_email("MixedCase")
    response = post(server, "/api/auth/signup", signup_body(email=f"  {email.upper()}\t "))
    assert response.status_code == 201, response.text
    lowered = email.lower()
    assert user_row(server, lowered) is not None
    assert server.query("SELECT COUNT(*) FROM users WHERE email = %s", (email.upper(),))[0][0] == 0
    # The code goes to the normalized address, and it verifies that address.
    code = flows.latest_code(server, lowered)
    assert flows.verify(server, lowered, code).status_code == 200
    login = flows.login(server, lowered)
    assert login.status_code == 200, login.text
    assert login.json()["user"]["email"] == lowered


def test_name_is_stored_trimmed(server):
    body = signup_body(name="  Grace Hopper \n")
    assert post(server, "/api/auth/signup", body).status_code == 201
    assert user_row(server, body["email"])[1] == "Grace Hopper"


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.com", "a b@example.com",
                                   "@example.com", "user@", "user@.example.com", ""])
def test_malformed_email_is_a_validation_error_naming_it(server, email):
    body = assert_error(post(server, "/api/auth/signup", signup_body(email=email)), 400, "validation_error")
    assert "email" in body["error"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "é" * 101])
def test_name_outside_1_to_100_characters_is_refused(server, name):
    body = signup_body(name=name)
    answer = assert_error(post(server, "/api/auth/signup", body), 400, "validation_error")
    assert "name" in answer["error"]
    assert user_row(server, body["email"]) is None


@pytest.mark.parametrize("name", ["x", "x" * 100, "é" * 100])
def test_name_of_1_to_100_characters_is_accepted(server, name):
    assert post(server, "/api/auth/signup", signup_body(name=name)).status_code == 201


@pytest.mark.parametrize("password", ["x" * 7, "x" * 129, "é" * 7, "é" * 129])
def test_password_outside_8_to_128_characters_is_refused(server, password):
    body = signup_body(password=password)
    answer = assert_error(post(server, "/api/auth/signup", body), 400, "validation_error")
    assert "password" in answer["error"]
    assert user_row(server, body["email"]) is None


@pytest.mark.parametrize("password", ["x" * 8, "x" * 128, "é" * 128])
def test_password_of_8_to_128_characters_is_accepted(server, password):
    body = signup_body(password=password)
    assert post(server, "/api/auth/signup", body).status_code == 201
    # Characters, not bytes: 128 two-byte characters are a valid password.
    email = body["email"]
    assert flows.verify(server, email, flows.latest_code(server, email)).status_code == 200
    assert flows.login(server, email, password).status_code == 200


def test_password_equal_to_the_email_is_refused(server):
    email = flows.new_email()
    answer = assert_error(post(server, "/api/auth/signup", signup_body(email=email, password=email)),
                          400, "validation_error")
    assert "password" in answer["error"]
    assert user_row(server, email) is None


@pytest.mark.parametrize("field", ["name", "email", "password"])
def test_missing_field_is_a_validation_error_naming_it(server, field):
    answer = assert_error(post(server, "/api/auth/signup", signup_body(**{field: None})), 400, "validation_error")
    assert field in answer["error"]


@pytest.mark.parametrize("field", ["name", "email", "password"])
def test_non_string_field_is_a_validation_error_naming_it(server, field):
    answer = assert_error(post(server, "/api/auth/signup", signup_body(**{field: 12345678})),
                          400, "validation_error")
    assert field in answer["error"]


@pytest.mark.parametrize("raw", [b"not json", b"{", b"[]", b'"text"', b"42", b"null", b""])
def test_a_body_that_is_not_a_json_object_is_invalid_json(server, raw):
    response = requests.post(server.url("/api/auth/signup"), data=raw,
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert_error(response, 400, "invalid_json")


def test_signup_of_a_verified_email_is_409_user_exists(server):
    email = flows.register(server)
    before = user_row(server, email)
    assert_error(flows.signup(server, email, "another password 9"), 409, "user_exists")
    # Any spelling of the same address is the same account.
    assert_error(flows.signup(server, f" {email.upper()} "), 409, "user_exists")
    assert user_row(server, email) == before  # nothing replaced
    assert flows.login(server, email).status_code == 200


def test_signup_again_while_unverified_replaces_the_account_and_its_code(server):
    email, old_code = signed_up(server, password="first password 1", name="First Name")
    old_id = user_row(server, email)[0]
    time.sleep(COOLDOWN_S + 0.2)
    seen = len(flows.mails_to(server, email))
    again = flows.signup(server, email, "second password 2", name="Second Name")
    signup_id = assert_signup_ok(again)
    new_code = flows.latest_code(server, email, seen)

    row = user_row(server, email)  # still exactly one account (user_row checks)
    assert row[0] != old_id and row[1] == "Second Name"
    assert server.query("SELECT COUNT(*) FROM otps WHERE user_id = %s", (old_id,))[0][0] == 0
    if new_code != old_code:  # one chance in a million that they are the same digits
        assert_error(flows.verify(server, email, old_code), 400, "invalid_otp")
    # The first attempt's code was still live: the new code verifies only
    # with the attempt's signup_id (test_auth_signup_attempts.py).
    verified = requests.post(server.url("/api/auth/verify-otp"),
                             json={"email": email, "otp": new_code, "signup_id": signup_id}, timeout=30)
    assert verified.status_code == 200, verified.text
    # The replacement's password and name are the ones that count.
    assert_error(flows.login(server, email, "first password 1"), 401, "invalid_credentials")
    login = flows.login(server, email, "second password 2")
    assert login.status_code == 200, login.text
    assert login.json()["user"]["name"] == "Second Name"


def test_signup_again_within_the_cooldown_is_429(make_server):
    server = make_server(env=UNLIMITED)  # the default one-minute cooldown
    email, _ = signed_up(server)
    response = flows.signup(server, email)
    assert_error(response, 429, "otp_cooldown")
    assert_retry_after(response, 50, 60)
    assert len(flows.mails_to(server, email)) == 1
