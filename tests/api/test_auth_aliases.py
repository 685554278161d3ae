"""The original's account paths answer like their canonical twins,
with or without a trailing slash."""

from __future__ import annotations

import pytest

import flows
from auth_checks import UNLIMITED, module_server, post, token_parts, verify_session
from checks import assert_error

SLASHES = pytest.mark.parametrize("slash", ["", "/"])


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from module_server(databases, tmp_path_factory, {**UNLIMITED, "SESSION_TTL": "1h"})


def signup_body() -> dict:
    return {"name": "Alias User", "email": flows.new_email("alias"), "password": flows.PASSWORD}


def comparable(response) -> tuple:
    body = response.json()
    if isinstance(body, dict) and "signup_id" in body:
        body["signup_id"] = "<one per signup attempt>"
    return response.status_code, response.headers.get("Content-Type"), body


@SLASHES
def test_signup_alias(server, slash):
    canonical = post(server, "/api/auth/signup", signup_body())
    alias_body = signup_body()
    alias = post(server, "/signup" + slash, alias_body)
    assert comparable(alias) == comparable(canonical)
    assert alias.status_code == 201
    assert server.query("SELECT COUNT(*) FROM users WHERE email = %s", (alias_body["email"],))[0][0] == 1
    # Refusals match too.
    bad = {**signup_body(), "email": "nope"}
    assert comparable(post(server, "/signup" + slash, bad)) == comparable(post(server, "/api/auth/signup", bad))


@SLASHES
def test_verify_otp_alias(server, slash):
    email = flows.new_email("alias")
    assert flows.signup(server, email).status_code == 201
    code = flows.latest_code(server, email)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    alias_wrong = post(server, "/verify-otp" + slash, {"email": email, "otp": wrong})
    assert comparable(alias_wrong) == comparable(post(server, "/api/auth/verify-otp", {"email": email, "otp": wrong}))
    assert_error(alias_wrong, 400, "invalid_otp")
    response = post(server, "/verify-otp" + slash, {"email": email, "otp": code})
    assert response.status_code == 200, response.text
    assert response.json() == {"valid": True, "message": "OTP verified successfully. You can now log in."}


@SLASHES
def test_login_alias(server, slash):
    email = flows.register(server)
    canonical = flows.login(server, email)
    alias = post(server, "/login" + slash, {"email": email, "password": flows.PASSWORD})
    assert alias.status_code == 200, alias.text
    assert alias.json()["user"] == canonical.json()["user"]
    token = alias.json()["token"]
    assert alias.headers["Set-Cookie"] == canonical.headers["Set-Cookie"].replace(canonical.json()["token"], token)
    assert alias.headers["Set-Cookie"].startswith(f"token={token}; ")
    assert verify_session(server, token).status_code == 200
    wrong = {"email": email, "password": "not the password 1"}
    assert comparable(post(server, "/login" + slash, wrong)) == comparable(post(server, "/api/auth/login", wrong))


@SLASHES
def test_verify_session_alias(server, slash):
    token = flows.token_for(server, flows.register(server))
    canonical = verify_session(server, token)
    alias = post(server, "/verify-session" + slash, headers=flows.bearer(token))
    assert comparable(alias) == comparable(canonical)
    assert alias.status_code == 200
    cookie = post(server, "/verify-session" + slash, headers={"Cookie": f"token={token}"})
    assert comparable(cookie) == comparable(canonical)
    assert comparable(post(server, "/verify-session" + slash)) == comparable(verify_session(server))
    assert_error(post(server, "/verify-session" + slash), 401, "missing_token")


@SLASHES
def test_logout_alias(server, slash):
    email = flows.register(server)
    token = flows.token_for(server, email)
    alias = post(server, "/logout" + slash, headers=flows.bearer(token))
    assert alias.status_code == 200, alias.text
    assert alias.json() == {"valid": True, "message": "Logged out successfully."}
    assert alias.headers["Set-Cookie"] == "token=; HttpOnly; Secure; SameSite=Lax; Max-Age=0; Path=/"
    assert_error(verify_session(server, token), 401, "session_invalid")
    assert server.query("SELECT COUNT(*) FROM sessions WHERE id = %s", (token_parts(token)[1]["sid"],))[0][0] == 0


@pytest.mark.parametrize("path", ["/api/auth/signup/", "/api/auth/login/", "/api/auth/verify-otp/",
                                  "/api/auth/resend-otp/", "/api/auth/verify-session/", "/api/auth/logout/"])
def test_canonical_paths_take_a_trailing_slash(server, path):
    assert post(server, path, {}).status_code != 404
