"""`referrald users`: create-admin (password on stdin), promote and
demote, against the database of a running server."""

from __future__ import annotations

import pytest

import flows
from auth_checks import UNLIMITED, module_server, signed_up, verify_session
from checks import assert_error

ADMIN_PASSWORD = "admin password 123"


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from module_server(databases, tmp_path_factory, UNLIMITED)


def create_admin(server, email: str, name: str = "The Admin", password: str = ADMIN_PASSWORD):
    return flows.cli(server, "users", "create-admin", "--email", email, "--name", name, "--password-stdin",
                     stdin=password + "\n")


def flags(server, email: str) -> tuple[bool, bool]:
    (row,) = server.query("SELECT is_admin, is_verified FROM users WHERE email = %s", (email,))
    return bool(row[0]), bool(row[1])


def logged_in_user(server, email: str, password: str = flows.PASSWORD) -> dict:
    response = flows.login(server, email, password)
    assert response.status_code == 200, response.text
    return response.json()["user"]


def test_create_admin_makes_a_verified_admin_that_can_log_in(server):
    email = flows.new_email("admin")
    done = create_admin(server, email)
    assert done.returncode == 0, done.stderr
    assert ADMIN_PASSWORD not in done.stdout + done.stderr
    user = logged_in_user(server, email, ADMIN_PASSWORD)
    assert user["is_admin"] is True and user["is_verified"] is True
    assert user["name"] == "The Admin" and user["email"] == email
    assert flags(server, email) == (True, True)
    stored = server.query("SELECT password_hash FROM users WHERE email = %s", (email,))[0][0]
    assert stored.startswith("$argon2id$")


def test_create_admin_normalizes_the_email(server):
    email = flows.new_email("admin")
    assert create_admin(server, f" {email.upper()} ").returncode == 0
    assert logged_in_user(server, email, ADMIN_PASSWORD)["is_admin"] is True


def test_create_admin_on_an_existing_account_promotes_it(server):
    email = flows.register(server)
    token = flows.token_for(server, email)
    done = create_admin(server, email, name="Ignored Name", password="some other password 9")
    assert done.returncode == 0, done.stderr
    assert flags(server, email) == (True, True)
    assert server.query("SELECT COUNT(*) FROM users WHERE email = %s", (email,))[0][0] == 1
    # The account keeps its password; its live session sees the new role.
    assert verify_session(server, token).json()["user"]["is_admin"] is True
    assert logged_in_user(server, email)["is_admin"] is True


def test_create_admin_on_an_unverified_account_replaces_it(server):
    # Anyone can sign up with the admin's address first: that squatter's
    # password, code and pending referral must not survive as an admin.
    boss = flows.register(server)
    code = flows.referral_code(server, flows.bearer(flows.token_for(server, boss)))
    email, squatter_code = signed_up(server, password="squatter password 1", referral_code=code)
    squatter_id = flows.user_id(server, email)
    done = create_admin(server, email, name="The Admin")
    assert done.returncode == 0, done.stderr
    assert "replaced" in done.stdout, done.stdout
    assert flags(server, email) == (True, True)
    rows = server.query("SELECT id, name, signup_referral_code FROM users WHERE email = %s", (email,))
    assert len(rows) == 1 and rows[0][0] != squatter_id, rows
    assert rows[0][1:] == ("The Admin", None)
    assert server.query("SELECT COUNT(*) FROM otps WHERE user_id = %s", (squatter_id,))[0][0] == 0
    assert server.query("SELECT COUNT(*) FROM sessions WHERE user_id = %s", (squatter_id,))[0][0] == 0
    assert_error(flows.login(server, email, "squatter password 1"), 401, "invalid_credentials")
    assert logged_in_user(server, email, ADMIN_PASSWORD)["is_admin"] is True
    # The squatter's code verifies nothing, and no referral was made.
    assert_error(flows.verify(server, email, squatter_code), 400, "invalid_otp")
    assert server.query("SELECT COUNT(*) FROM referrals WHERE referee_id = %s", (rows[0][0],))[0][0] == 0


def test_promote_refuses_an_unverified_account(server):
    email, _ = signed_up(server)
    done = flows.cli(server, "users", "promote", email)
    assert done.returncode != 0
    assert email in done.stderr and "not verified" in done.stderr, done.stderr
    assert flags(server, email) == (False, False)


def test_create_admin_refuses_a_short_password(server):
    email = flows.new_email("admin")
    done = create_admin(server, email, password="short")
    assert done.returncode != 0
    assert "password" in done.stderr
    assert server.query("SELECT COUNT(*) FROM users WHERE email = %s", (email,))[0][0] == 0


def test_create_admin_refuses_a_malformed_email(server):
    done = create_admin(server, "not-an-email")
    assert done.returncode != 0
    assert "email" in done.stderr


def test_promote_and_demote(server):
    email = flows.register(server)
    token = flows.token_for(server, email)
    done = flows.cli(server, "users", "promote", email)
    assert done.returncode == 0, done.stderr
    assert flags(server, email) == (True, True)
    assert verify_session(server, token).json()["user"]["is_admin"] is True
    done = flows.cli(server, "users", "demote", email)
    assert done.returncode == 0, done.stderr
    assert flags(server, email) == (False, True)
    assert verify_session(server, token).json()["user"]["is_admin"] is False
    assert logged_in_user(server, email)["is_admin"] is False


@pytest.mark.parametrize("command", ["promote", "demote"])
def test_unknown_email_fails_with_a_clear_message(server, command):
    email = flows.new_email("nobody")
    done = flows.cli(server, "users", command, email)
    assert done.returncode != 0
    assert email in done.stderr, done.stderr
    assert "no account" in done.stderr.lower(), done.stderr
    assert server.query("SELECT COUNT(*) FROM users WHERE email = %s", (email,))[0][0] == 0


def test_create_admin_requires_the_password_on_stdin(server):
    email = flows.new_email("admin")
    done = flows.cli(server, "users", "create-admin", "--email", email, "--name", "N", stdin=ADMIN_PASSWORD)
    assert done.returncode != 0
    assert server.query("SELECT COUNT(*) FROM users WHERE email = %s", (email,))[0][0] == 0
