"""Internationalised email domains (docs/API.md, "Email addresses"): an
address is stored, compared and mailed in one form, its domain in IDNA ASCII
("bücher.de" -> "xn--bcher-kva.de"), so one person matches however they type
it: in Unicode, in any case, or in punycode. The original accepted these
addresses; its users must be able to sign up and log in here."""

from __future__ import annotations

import uuid

import pytest

import flows
from auth_checks import UNLIMITED, module_server, post, resend
from checks import assert_error

PUNYCODE_DOMAIN = "xn--bcher-kva.de"  # bücher.de, as every IDNA library spells it


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from module_server(databases, tmp_path_factory, {**UNLIMITED, "OTP_RESEND_COOLDOWN": "0s"})


def new_local() -> str:
    return f"anna-{uuid.uuid4().hex[:8]}"


def signed_up_in_unicode(server, local: str) -> str:
    """Signs up as local@Bücher.de; returns the code mailed to the ASCII form."""
    canonical = f"{local}@{PUNYCODE_DOMAIN}"
    answer = flows.signup(server, f"  {local.capitalize()}@Bücher.DE ", name="Anna")
    assert answer.status_code == 201, answer.text
    return flows.latest_code(server, canonical)


def test_signup_verify_and_login_with_a_unicode_domain(server):
    local = new_local()
    canonical = f"{local}@{PUNYCODE_DOMAIN}"
    code = signed_up_in_unicode(server, local)
    assert server.query("SELECT email, canonical_email FROM users WHERE email = %s", (canonical,)) == [
        (canonical, canonical)]
    verified = flows.verify(server, f"{local}@bücher.de", code)
    assert verified.status_code == 200, verified.text
    for typed in (f"{local}@bücher.de", f"{local.upper()}@BÜCHER.DE", canonical, f"{local}@XN--BCHER-KVA.DE"):
        answer = flows.login(server, typed)
        assert answer.status_code == 200, (typed, answer.text)
        assert answer.json()["user"]["email"] == canonical


def test_the_same_person_cannot_sign_up_twice_by_spelling_the_domain_otherwise(server):
    local = new_local()
    flows.verify(server, f"{local}@bücher.de", signed_up_in_unicode(server, local))
    again = flows.signup(server, f"{local}@{PUNYCODE_DOMAIN}")
    assert_error(again, 409, "user_exists")
    assert server.query("SELECT COUNT(*) FROM users WHERE email LIKE %s", (f"{local}@%",)) == [(1,)]


def test_resend_forgot_and_reset_accept_the_unicode_form(server):
    local = new_local()
    canonical = f"{local}@{PUNYCODE_DOMAIN}"
    signed_up_in_unicode(server, local)
    assert resend(server, f"{local}@bücher.de").status_code == 200
    code = flows.latest_code(server, canonical, seen=1)
    assert flows.verify(server, canonical, code).status_code == 200
    seen = len(flows.mails_to(server, canonical))
    assert post(server, "/api/auth/password/forgot", {"email": f"{local}@Bücher.de"}).status_code == 200
    reset_code = flows.latest_code(server, canonical, seen)
    reset = post(server, "/api/auth/password/reset",
                 {"email": f"{local}@bücher.de", "otp": reset_code, "new_password": "a new password 2"})
    assert reset.status_code == 200, reset.text
    assert flows.login(server, f"{local}@bücher.de", "a new password 2").status_code == 200


def test_create_admin_with_a_unicode_domain_logs_in_either_way(server):
    local = new_local()
    done = flows.cli(server, "users", "create-admin", "--email", f"{local}@bücher.de", "--name", "Anna",
                     "--password-stdin", stdin=flows.PASSWORD + "\n")
    assert done.returncode == 0, done.stdout + done.stderr
    for typed in (f"{local}@bücher.de", f"{local}@{PUNYCODE_DOMAIN}"):
        answer = flows.login(server, typed)
        assert answer.status_code == 200, answer.text
        assert answer.json()["user"]["is_admin"] is True


@pytest.mark.parametrize("email", ["anna@bü cher.de", "anna@-bücher.de", "anna@bücher",
                                   "änna@bücher.de"])
def test_addresses_idna_refuses_are_400(server, email):
    assert_error(flows.signup(server, email), 400, "validation_error")
