"""Login: the answer and its cookie, the refusals (alike for unknown
emails and wrong passwords), and what is stored."""

from __future__ import annotations

import pytest
import requests

import flows
from auth_checks import ISO_MS, UNLIMITED, USER_FIELDS, iso, module_server, signed_up, token_parts, verify_session
from checks import JSON_TYPE, assert_error

SESSION_TTL_S = 3 * 3600


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from module_server(databases, tmp_path_factory, {**UNLIMITED, "SESSION_TTL": "3h"})


def user_row(server, email: str) -> dict:
    (row,) = server.query("SELECT id, name, email, is_verified, is_admin, created_at, password_hash "
                          "FROM users WHERE email = %s", (email,))
    return dict(zip(("id", "name", "email", "is_verified", "is_admin", "created_at", "password_hash"), row))


def test_login_answers_the_user_and_a_token(server):
    email = flows.register(server, name="Login Tester")
    response = flows.login(server, email)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == JSON_TYPE
    body = response.json()
    assert set(body) == {"user", "token"}
    user = body["user"]
    assert set(user) == USER_FIELDS
    row = user_row(server, email)
    assert user["id"] == row["id"] and isinstance(user["id"], str)
    assert user["name"] == "Login Tester"
    assert user["email"] == email
    assert user["is_verified"] is True
    assert user["is_admin"] is False
    assert ISO_MS.fullmatch(user["created_at"]), user["created_at"]
    assert user["created_at"] == iso(row["created_at"])
    assert isinstance(body["token"], str) and body["token"].count(".") == 2


def test_login_sets_the_token_cookie_with_every_attribute(server):
    email = flows.register(server)
    response = flows.login(server, email)
    token = response.json()["token"]
    assert response.headers["Set-Cookie"] == (
        f"token={token}; HttpOnly; Secure; SameSite=Lax; Max-Age={SESSION_TTL_S}; Path=/")


def test_the_token_cookie_alone_authenticates(server):
    email = flows.register(server)
    login = flows.login(server, email)
    response = verify_session(server, headers={"Cookie": f"token={login.json()['token']}"})
    assert response.status_code == 200, response.text
    assert response.json() == {"valid": True, "user": login.json()["user"]}


def test_the_bearer_token_authenticates(server):
    email = flows.register(server)
    login = flows.login(server, email)
    response = verify_session(server, login.json()["token"])
    assert response.status_code == 200, response.text
    assert response.json() == {"valid": True, "user": login.json()["user"]}


def test_token_claims_name_the_user_and_a_stored_session(server):
    email = flows.register(server)
    token = flows.token_for(server, email)
    header, claims = token_parts(token)
    assert header["alg"] == "HS256"
    assert {"sub", "sid", "iat", "exp", "jti"} <= set(claims)
    assert claims["sub"] == user_row(server, email)["id"]
    assert claims["exp"] - claims["iat"] == SESSION_TTL_S
    rows = server.query("SELECT user_id, expires_at, ip, user_agent FROM sessions WHERE id = %s", (claims["sid"],))
    assert len(rows) == 1
    user_id, expires_at, ip, user_agent = rows[0]
    assert user_id == claims["sub"]
    assert abs(expires_at // 1000 - claims["exp"]) <= 1
    assert ip == "127.0.0.1"
    assert user_agent == requests.utils.default_user_agent()


def test_two_logins_give_two_tokens_and_two_sessions(server):
    email = flows.register(server)
    first, second = flows.token_for(server, email), flows.token_for(server, email)
    assert first != second
    assert token_parts(first)[1]["sid"] != token_parts(second)[1]["sid"]
    user_id = user_row(server, email)["id"]
    assert server.query("SELECT COUNT(*) FROM sessions WHERE user_id = %s", (user_id,))[0][0] == 2


def test_email_is_normalized_at_login(server):
    email = flows.register(server)
    response = flows.login(server, f"  {email.upper()} ")
    assert response.status_code == 200, response.text
    assert response.json()["user"]["email"] == email


def test_wrong_password_and_unknown_email_get_the_same_401(server):
    email = flows.register(server)
    wrong = flows.login(server, email, "not the password 1")
    unknown = flows.login(server, flows.new_email("nobody"))
    body = assert_error(wrong, 401, "invalid_credentials")
    assert_error(unknown, 401, "invalid_credentials")
    assert unknown.json() == body
    assert "Set-Cookie" not in wrong.headers and "Set-Cookie" not in unknown.headers


def test_malformed_email_at_login_is_the_same_401(server):
    email = flows.register(server)
    reference = flows.login(server, email, "not the password 1").json()
    response = flows.login(server, "not-an-email")
    assert_error(response, 401, "invalid_credentials")
    assert response.json() == reference


def test_unverified_account_with_the_right_password_is_403(server):
    email, _ = signed_up(server)
    response = flows.login(server, email)
    assert_error(response, 403, "email_not_verified")
    assert "Set-Cookie" not in response.headers
    assert server.query("SELECT COUNT(*) FROM sessions s JOIN users u ON u.id = s.user_id "
                        "WHERE u.email = %s", (email,))[0][0] == 0
    # The wrong password says nothing about the account's state.
    assert_error(flows.login(server, email, "not the password 1"), 401, "invalid_credentials")


@pytest.mark.parametrize("field", ["email", "password"])
def test_missing_field_is_a_validation_error(server, field):
    body = {"email": flows.new_email(), "password": flows.PASSWORD}
    del body[field]
    response = requests.post(server.url("/api/auth/login"), json=body, timeout=30)
    assert field in assert_error(response, 400, "validation_error")["error"]


def test_login_body_must_be_a_json_object(server):
    response = requests.post(server.url("/api/auth/login"), data=b"[1]",
                             headers={"Content-Type": "application/json"}, timeout=30)
    assert_error(response, 400, "invalid_json")


def test_password_is_stored_as_an_argon2id_hash(server):
    email = flows.register(server)
    stored = user_row(server, email)["password_hash"]
    assert stored.startswith("$argon2id$"), stored
    assert flows.PASSWORD not in stored
    # Salted: the same password hashes differently for another account.
    other = flows.register(server)
    assert user_row(server, other)["password_hash"] != stored
