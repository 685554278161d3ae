"""Assertions and helpers shared by the accounts tests (test_auth_*.py)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import re
import time

import requests

import flows
import harness
from checks import assert_error

ISO_MS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")
USER_FIELDS = {"id", "name", "email", "is_verified", "is_admin", "created_at"}

# Module servers get no per-IP limit: a module signs up far more than 30
# accounts a minute from 127.0.0.1. The limit has its own tests.
UNLIMITED = {"RATE_LIMIT_PER_IP": "0"}


def iso(epoch_ms: int) -> str:
    """Milliseconds since the epoch as docs/API.md writes them."""
    moment = datetime.datetime.fromtimestamp(epoch_ms / 1000, tz=datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{epoch_ms % 1000:03d}Z"


def module_server(databases, tmp_path_factory, env: dict):
    """Body of a module-scoped fixture: one server with `env`, stopped at the end."""
    pool = harness.ServerPool(databases, tmp_path_factory.mktemp("auth"))
    try:
        yield pool.start(env=env)
    finally:
        pool.close()


def post(server, path: str, body=None, headers: dict | None = None, **kwargs) -> requests.Response:
    return requests.post(server.url(path), json=body, headers=headers, timeout=30, **kwargs)


def verify_session(server, token: str | None = None, headers: dict | None = None) -> requests.Response:
    headers = dict(headers or {})
    if token is not None:
        headers.update(flows.bearer(token))
    return requests.post(server.url("/api/auth/verify-session"), headers=headers, timeout=30)


# docs/API.md, Authentication: a session ended on another instance, or by
# SQL, is refused by every instance within this long (PostgreSQL instances
# hear of it through LISTEN/NOTIFY; docs/ARCHITECTURE.md, Sessions in memory).
ENDED_WITHIN = 0.100


def assert_session_ended(server, token: str) -> None:
    """verify-session answers 401 session_invalid within ENDED_WITHIN."""
    deadline = time.monotonic() + ENDED_WITHIN
    answer = verify_session(server, token)
    while answer.status_code == 200 and time.monotonic() < deadline:
        time.sleep(0.005)
        answer = verify_session(server, token)
    assert_error(answer, 401, "session_invalid")


def resend(server, email: str) -> requests.Response:
    return post(server, "/api/auth/resend-otp", {"email": email})


def other_code(code: str) -> str:
    """A well-formed code that is not `code`."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def signed_up(server, email: str | None = None, password: str = flows.PASSWORD, **extra) -> tuple[str, str]:
    """An unverified account: (email, the code mailed for it)."""
    email = email or flows.new_email()
    seen = len(flows.mails_to(server, email))
    answer = flows.signup(server, email, password, **extra)
    assert answer.status_code == 201, answer.text
    return email, flows.latest_code(server, email, seen)


def session_token(server, email: str | None = None) -> tuple[str, str]:
    """A verified, logged-in user: (email, token)."""
    email = email or flows.register(server)
    return email, flows.token_for(server, email)


# --------------------------------------------------------------------------
# JWT, built by hand so the tests do not trust the server's encoder


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_json(value: dict) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def token_parts(token: str) -> tuple[dict, dict]:
    """(header, claims) of a JWT, unverified."""
    header, payload, _signature = token.split(".")
    return json.loads(unb64url(header)), json.loads(unb64url(payload))


def sign(header: dict, claims: dict, secret: bytes, digest=hashlib.sha256) -> str:
    signing_input = b64url_json(header) + "." + b64url_json(claims)
    signature = hmac.new(secret, signing_input.encode("ascii"), digest).digest()
    return signing_input + "." + b64url(signature)
