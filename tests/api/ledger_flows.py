"""Helpers shared by the referral, reward and race tests.

Every server here runs with the per-IP rate limit off (the tests sign up far
more than 30 accounts a minute from one address) and, unless a test asks
for it, without the same-IP fraud flag: every test client comes from
127.0.0.1, so that flag would mark every referral.
"""

from __future__ import annotations

import dataclasses
import re

import requests

import flows
import harness

BASE_ENV = {"RATE_LIMIT_PER_IP": "0", "REFERRAL_FLAG_SAME_IP": "false"}
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def env(**overrides) -> dict:
    return {**BASE_ENV, **{name: str(value) for name, value in overrides.items()}}


def module_server(databases, tmp_path_factory, **overrides):
    """Generator body for a module-scoped server fixture with env(**overrides)."""
    pool = harness.ServerPool(databases, tmp_path_factory.mktemp("ledger"))
    try:
        yield pool.start(env=env(**overrides))
    finally:
        pool.close()


@dataclasses.dataclass
class User:
    email: str
    headers: dict
    id: str


def login_from(server, email: str, ip: str | None = None) -> dict:
    """Logs in, optionally as if from `ip` (needs TRUSTED_PROXIES=127.0.0.1)."""
    headers = {"X-Forwarded-For": ip} if ip else {}
    answer = requests.post(server.url("/api/auth/login"), headers=headers,
                           json={"email": email, "password": flows.PASSWORD}, timeout=30)
    assert answer.status_code == 200, answer.text
    return flows.bearer(answer.json()["token"])


def user(server, email: str | None = None, ip: str | None = None) -> User:
    """A verified, logged-in user (logged in from `ip` when given)."""
    email = flows.register(server, email=email)
    return User(email, login_from(server, email, ip), flows.user_id(server, email))


def admin(server) -> User:
    email, headers = flows.new_admin(server)
    return User(email, headers, flows.user_id(server, email))


def post(server, path: str, headers: dict | None = None, json=None, **extra_headers) -> requests.Response:
    return requests.post(server.url(path), headers={**(headers or {}), **extra_headers}, json=json, timeout=30)


def get(server, path: str, headers: dict | None = None, **params) -> requests.Response:
    return requests.get(server.url(path), headers=headers or {}, params=params, timeout=30)


def generate(server, who: User) -> requests.Response:
    return post(server, "/api/referral/generate", who.headers)


def code_of(server, who: User) -> str:
    return flows.referral_code(server, who.headers)


def apply(server, who: User, code: str, **extra_headers) -> requests.Response:
    return flows.apply_code(server, who.headers, code, **extra_headers)


def refer(server, referrer: User, referee: User | None = None, **extra_headers) -> tuple[User, str]:
    """`referee` (a new user when None) applies `referrer`'s code; (referee, referral id)."""
    referee = referee or user(server)
    answer = apply(server, referee, code_of(server, referrer), **extra_headers)
    assert answer.status_code == 200, answer.text
    return referee, answer.json()["referral_id"]


def config(server, boss: User, reward_type: str = "SIGNUP", value: int = 100, unit: str = "POINTS",
           **extra) -> dict:
    return flows.reward_config(server, boss.headers, reward_type, value, unit, **extra)


def rewards_of(server, referral_id: str) -> list[dict]:
    """The ledger rows of one referral, straight from the database."""
    rows = server.query("SELECT id, user_id, beneficiary, reward_type, reward_value, reward_unit, status "
                        "FROM rewards WHERE referral_id = %s ORDER BY beneficiary, reward_type", (referral_id,))
    keys = ("id", "user_id", "beneficiary", "reward_type", "reward_value", "reward_unit", "status")
    return [dict(zip(keys, row)) for row in rows]


def reward_of(server, referral_id: str, beneficiary: str = "REFERRER", reward_type: str = "SIGNUP") -> dict:
    found = [r for r in rewards_of(server, referral_id)
             if r["beneficiary"] == beneficiary and r["reward_type"] == reward_type]
    assert len(found) == 1, rewards_of(server, referral_id)
    return found[0]


def referral_status(server, referral_id: str) -> str:
    return server.query("SELECT status FROM referrals WHERE id = %s", (referral_id,))[0][0]


def stats_of(server, user_id: str) -> tuple | None:
    rows = server.query("SELECT total, successful, pending, rejected FROM referrer_stats WHERE user_id = %s",
                        (user_id,))
    return rows[0] if rows else None


def credit(server, boss: User, reward_id: str, **extra_headers) -> requests.Response:
    return post(server, f"/api/admin/rewards/{reward_id}/credit", boss.headers, **extra_headers)


def revoke(server, boss: User, reward_id: str, reason: str | None = "fraud", **extra_headers) -> requests.Response:
    body = {} if reason is None else {"reason": reason}
    return post(server, f"/api/admin/rewards/{reward_id}/revoke", boss.headers, body, **extra_headers)


def history(server, boss: User, reward_id: str) -> list[dict]:
    answer = get(server, f"/api/admin/rewards/{reward_id}/history", boss.headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


def event(server, boss: User, external_id: str, **who) -> requests.Response:
    return post(server, "/api/admin/events", boss.headers,
                {"type": "FIRST_ORDER", "external_id": external_id, **who})


def all_pages(server, path: str, headers: dict, **params) -> list[list[dict]]:
    """Follows Link rel=next from the first page; returns every page's items."""
    answer = get(server, path, headers, **params)
    pages = []
    while True:
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        link = answer.headers.get("Link")
        if not link:
            return pages
        match = re.fullmatch(r'<([^>]+)>; rel="next"', link)
        assert match, link
        assert len(pages) < 100, "pagination does not end"
        answer = requests.get(server.url(match.group(1)), headers=headers, timeout=30)
