"""Account and referral flows shared by the API tests.

Codes are read from what the server really sent: with the default console
mail backend, the JSON log line {"msg": "email", "to": ..., "text": ...}.
"""

from __future__ import annotations

import itertools
import re
import time
import uuid

import requests

import harness

PASSWORD = "correct horse 1"
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
_numbers = itertools.count(1)


def new_email(prefix: str = "user") -> str:
    return f"{prefix}-{next(_numbers)}-{uuid.uuid4().hex[:8]}@example.com"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def mails_to(server, email: str) -> list[dict]:
    return [line for line in server.mails() if line.get("to") == email]


def latest_code(server, email: str, seen: int = 0, timeout: float = 10.0) -> str:
    """The code of the newest email to `email` once more than `seen` were sent."""
    deadline = time.monotonic() + timeout
    while True:
        mails = mails_to(server, email)
        if len(mails) > seen:
            match = _CODE.search(mails[-1]["text"])
            assert match, f"no code in mail: {mails[-1]}"
            return match.group(1)
        if time.monotonic() > deadline:
            raise AssertionError(f"no mail to {email} within {timeout}s")
        time.sleep(0.02)


def signup(server, email: str, password: str = PASSWORD, name: str = "Test User", **extra) -> requests.Response:
    return requests.post(server.url("/api/auth/signup"),
                         json={"name": name, "email": email, "password": password, **extra}, timeout=30)


def verify(server, email: str, code: str) -> requests.Response:
    return requests.post(server.url("/api/auth/verify-otp"), json={"email": email, "otp": code}, timeout=30)


def login(server, email: str, password: str = PASSWORD) -> requests.Response:
    return requests.post(server.url("/api/auth/login"), json={"email": email, "password": password}, timeout=30)


def register(server, email: str | None = None, password: str = PASSWORD, **extra) -> str:
    """A verified account; returns its email."""
    email = email or new_email()
    seen = len(mails_to(server, email))
    answer = signup(server, email, password, **extra)
    assert answer.status_code == 201, answer.text
    answer = verify(server, email, latest_code(server, email, seen))
    assert answer.status_code == 200, answer.text
    return email


def token_for(server, email: str, password: str = PASSWORD) -> str:
    answer = login(server, email, password)
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def new_user(server, **extra) -> tuple[str, dict]:
    """A verified, logged-in user: (email, auth headers)."""
    email = register(server, **extra)
    return email, bearer(token_for(server, email))


def cli(server, *args: str, stdin: str | None = None):
    """Runs a referrald subcommand against the server's database."""
    import subprocess

    env = harness.server_env({"DATABASE_URL": server.database_url})
    return subprocess.run([harness.binary(), *args], env=env, input=stdin, capture_output=True,
                          text=True, timeout=60)


def new_admin(server) -> tuple[str, dict]:
    email = register(server, email=new_email("admin"))
    done = cli(server, "users", "promote", email)
    assert done.returncode == 0, done.stderr
    return email, bearer(token_for(server, email))


def user_id(server, email: str) -> str:
    return server.query("SELECT id FROM users WHERE email = %s", (email,))[0][0]


def reward_config(server, admin: dict, reward_type: str = "SIGNUP", value: int = 100, unit: str = "POINTS",
                  **extra) -> dict:
    answer = requests.post(server.url("/api/admin/reward-config"), headers=admin,
                           json={"reward_type": reward_type, "reward_value": value, "reward_unit": unit, **extra},
                           timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()


def referral_code(server, headers: dict) -> str:
    answer = requests.post(server.url("/api/referral/generate"), headers=headers, timeout=30)
    assert answer.status_code in (200, 201), answer.text
    return answer.json()["referral_code"]


def apply_code(server, headers: dict, code: str, **extra_headers) -> requests.Response:
    return requests.post(server.url("/api/referral/apply"), headers={**headers, **extra_headers},
                         json={"referral_code": code}, timeout=30)
