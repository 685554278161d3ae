"""Tokens: every 401 code, tokens forged in Python (alg none, another
algorithm, a tampered payload, another secret), expiry, and JWT_SECRET rules."""

from __future__ import annotations

import hashlib
import time
import uuid

import pytest

import flows
import harness
from auth_checks import (UNLIMITED, assert_session_ended, b64url, b64url_json, module_server, sign, token_parts,
                         unb64url, verify_session)
from checks import assert_error

SECRET = b"the-test-secret-of-this-module-0123456789"  # >= 32 bytes
OTHER_SECRET = b"another-secret-that-is-long-enough-0123456789"
HS256 = {"alg": "HS256", "typ": "JWT"}


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from module_server(databases, tmp_path_factory, {**UNLIMITED, "JWT_SECRET": SECRET.decode()})


@pytest.fixture(scope="module")
def session(server):
    """A live session: (token, claims)."""
    token = flows.token_for(server, flows.register(server))
    return token, token_parts(token)[1]


def test_the_servers_own_token_is_accepted(server, session):
    token, _ = session
    assert verify_session(server, token).status_code == 200


def test_a_token_forged_with_the_right_secret_is_accepted(server, session):
    # The control for the forgeries below: this Python signing is right.
    _, claims = session
    forged = sign(HS256, {**claims, "jti": uuid.uuid4().hex}, SECRET)
    assert verify_session(server, forged).status_code == 200


def test_no_token_is_401_missing_token(server):
    assert_error(verify_session(server), 401, "missing_token")
    assert_error(verify_session(server, headers={"Authorization": "Bearer "}), 401, "missing_token")
    assert_error(verify_session(server, headers={"Cookie": "token="}), 401, "missing_token")


@pytest.mark.parametrize("garbage", ["garbage", "a.b.c", "a.b", "...", "x.y.z.w", "eyJhbGciOiJIUzI1NiJ9.e30."])
def test_garbage_is_401_invalid_token(server, garbage):
    assert_error(verify_session(server, garbage), 401, "invalid_token")


def test_alg_none_is_refused(server, session):
    _, claims = session
    unsigned = b64url_json({"alg": "none", "typ": "JWT"}) + "." + b64url_json(claims) + "."
    assert_error(verify_session(server, unsigned), 401, "invalid_token")
    # Nor with the real signature appended: the header is not HS256.
    signed = sign({"alg": "none", "typ": "JWT"}, claims, SECRET)
    assert_error(verify_session(server, signed), 401, "invalid_token")


def test_another_algorithm_is_refused(server, session):
    _, claims = session
    hs512 = sign({"alg": "HS512", "typ": "JWT"}, claims, SECRET, hashlib.sha512)
    assert_error(verify_session(server, hs512), 401, "invalid_token")
    # An HS512 label over an HS256 signature: the label alone is refused.
    relabelled = sign({"alg": "HS512", "typ": "JWT"}, claims, SECRET)
    assert_error(verify_session(server, relabelled), 401, "invalid_token")


def test_a_tampered_payload_is_refused(server, session):
    token, claims = session
    header, _payload, signature = token.split(".")
    for change in ({"exp": claims["exp"] + 3600}, {"sub": "someone-else"}, {"sid": "another-session"}):
        tampered = header + "." + b64url_json({**claims, **change}) + "." + signature
        assert_error(verify_session(server, tampered), 401, "invalid_token")


def test_a_tampered_signature_is_refused(server, session):
    token, _ = session
    head, payload, signature = token.split(".")
    raw = bytearray(unb64url(signature))
    raw[0] ^= 1
    assert_error(verify_session(server, f"{head}.{payload}.{b64url(bytes(raw))}"), 401, "invalid_token")


def test_a_token_signed_with_another_secret_is_refused(server, session):
    _, claims = session
    assert_error(verify_session(server, sign(HS256, claims, OTHER_SECRET)), 401, "invalid_token")


def test_a_forged_token_past_its_exp_is_401_token_expired(server, session):
    _, claims = session
    now = int(time.time())
    expired = sign(HS256, {**claims, "iat": now - 7200, "exp": now - 3600}, SECRET)
    assert_error(verify_session(server, expired), 401, "token_expired")


def test_a_token_is_dead_once_the_session_ttl_passes(make_server):
    server = make_server(env={**UNLIMITED, "SESSION_TTL": "2s"})
    token = flows.token_for(server, flows.register(server))
    assert verify_session(server, token).status_code == 200
    time.sleep(3.1)
    assert_error(verify_session(server, token), 401, "token_expired")
    assert_error(verify_session(server, headers={"Cookie": f"token={token}"}), 401, "token_expired")


def test_a_token_whose_session_row_is_gone_is_401_session_invalid(server):
    token = flows.token_for(server, flows.register(server))
    sid = token_parts(token)[1]["sid"]
    assert verify_session(server, token).status_code == 200
    server.query("DELETE FROM sessions WHERE id = %s", (sid,))
    assert_session_ended(server, token)


def test_a_validly_signed_token_for_an_unknown_session_is_session_invalid(server, session):
    _, claims = session
    forged = sign(HS256, {**claims, "sid": uuid.uuid4().hex}, SECRET)
    assert_error(verify_session(server, forged), 401, "session_invalid")


def test_a_validly_signed_token_naming_another_user_is_session_invalid(server, session):
    _, claims = session
    other = token_parts(flows.token_for(server, flows.register(server)))[1]
    forged = sign(HS256, {**claims, "sub": other["sub"]}, SECRET)  # my session, their id
    assert_error(verify_session(server, forged), 401, "session_invalid")


def test_bearer_wins_over_the_cookie(server, session):
    token, _ = session
    assert_error(verify_session(server, "garbage", headers={"Cookie": f"token={token}"}), 401, "invalid_token")
    answer = verify_session(server, token, headers={"Cookie": "token=garbage"})
    assert answer.status_code == 200, answer.text


def test_tokens_survive_a_restart_with_the_same_secret(make_server):
    first = make_server(env={**UNLIMITED, "JWT_SECRET": SECRET.decode()})
    token = flows.token_for(first, flows.register(first))
    assert first.stop() == 0
    again = make_server(env={**UNLIMITED, "JWT_SECRET": SECRET.decode()}, database_url=first.database_url)
    assert verify_session(again, token).status_code == 200


def test_a_generated_secret_is_kept_in_the_database(make_server):
    first = make_server(env=UNLIMITED)  # no JWT_SECRET: one is generated once
    token = flows.token_for(first, flows.register(first))
    second = make_server(env=UNLIMITED, database_url=first.database_url)
    assert verify_session(second, token).status_code == 200


@pytest.mark.parametrize("name", ["JWT_SECRET", "JWT-SECRET"])
def test_a_jwt_secret_shorter_than_32_bytes_refuses_to_start(databases, name):
    done = harness.run_cli(["serve"], env={"DATABASE_URL": databases.new_url(), name: "x" * 31}, timeout=30)
    assert done.returncode != 0
    assert "JWT_SECRET" in done.stderr and "32" in done.stderr, done.stderr
    assert "listening" not in done.stdout


def test_a_jwt_secret_of_32_bytes_is_enough(make_server):
    secret = b"0123456789abcdefghijklmnopqrstuv"  # 32 bytes, 32 different ones
    server = make_server(env={**UNLIMITED, "JWT_SECRET": secret.decode()})
    token = flows.token_for(server, flows.register(server))
    claims = token_parts(token)[1]
    assert verify_session(server, sign(HS256, {**claims, "jti": "x"}, secret)).status_code == 200
