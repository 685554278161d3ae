"""API keys (docs/API.md, API keys): create (shown once), list, revoke, the
key authenticator (scopes, no crossing with login tokens), /api/v1, the
`referrald api-keys create` command, across two instances on one database."""

from __future__ import annotations

import hashlib
import re
import uuid

import pytest
import requests

import flows
import ledger_flows as lf
from checks import assert_error

KEY_SHAPE = re.compile(r"rk_[0-9A-Za-z]{40}")
ALL_SCOPES = ["events:write", "rewards:read", "rewards:write", "referrals:read", "webhooks:manage"]


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from lf.module_server(databases, tmp_path_factory, API_KEY_RATE_LIMIT="0")


@pytest.fixture(scope="module")
def boss(server):
    boss = lf.admin(server)
    lf.config(server, boss, "SIGNUP", 100)
    lf.config(server, boss, "FIRST_ORDER", 500, "CASH")
    return boss


def create_key(server, boss, scopes=None, name: str = "shop backend") -> requests.Response:
    return lf.post(server, "/api/admin/api-keys", boss.headers, {"name": name, "scopes": scopes or ALL_SCOPES})


def new_key(server, boss, scopes=None) -> dict:
    answer = create_key(server, boss, scopes)
    assert answer.status_code == 201, answer.text
    return answer.json()


# A key is no token: a token route sees none (X-Api-Key) or one it did not sign (Bearer rk_...).
KEY_ON_A_TOKEN_ROUTE = {"X-Api-Key": "missing_token", "Bearer": "invalid_token"}


def with_key(key: dict, header: str = "X-Api-Key") -> dict:
    return {"X-Api-Key": key["key"]} if header == "X-Api-Key" else {"Authorization": "Bearer " + key["key"]}


def v1_event(server, key: dict, external_id: str | None = None, **body) -> requests.Response:
    payload = {"type": "FIRST_ORDER", "external_id": external_id or "order-" + uuid.uuid4().hex, **body}
    return lf.post(server, "/api/v1/events", with_key(key), payload)


def listed(server, boss, key_id: str) -> dict:
    (found,) = [item for page in lf.all_pages(server, "/api/admin/api-keys", boss.headers) for item in page
                if item["id"] == key_id]
    return found


def key_row(server, key_id: str) -> tuple:
    return server.query("SELECT id, name, prefix, key_hash, scope_bits, created_by, created_at, last_used_at, "
                        "revoked_at FROM api_keys WHERE id = %s", (key_id,))[0]


def test_create_shows_the_key_once_and_stores_only_its_hash(server, boss):
    answer = create_key(server, boss, ["events:write", "rewards:read"])
    assert answer.status_code == 201, answer.text
    key = answer.json()
    assert set(key) == {"id", "name", "scopes", "prefix", "key", "created_at"}
    assert KEY_SHAPE.fullmatch(key["key"]), key["key"]
    assert key["prefix"] == key["key"][:8] and key["name"] == "shop backend"
    assert key["scopes"] == ["events:write", "rewards:read"]
    assert lf.TIMESTAMP.fullmatch(key["created_at"])
    shown = listed(server, boss, key["id"])
    assert set(shown) == {"id", "name", "scopes", "prefix", "created_at", "last_used_at", "revoked_at"}
    assert shown["last_used_at"] is None and shown["revoked_at"] is None
    # Invariant: the key's text is in no column of any row; its SHA-256 is.
    for row in server.query("SELECT * FROM api_keys"):
        assert all(key["key"] not in str(column) for column in row)
    assert key_row(server, key["id"])[3] == hashlib.sha256(key["key"].encode()).hexdigest()
    assert key_row(server, key["id"])[5] == boss.id


@pytest.mark.parametrize("body", [
    {"scopes": ["events:write"]},
    {"name": "", "scopes": ["events:write"]},
    {"name": "   ", "scopes": ["events:write"]},
    {"name": "x" * 101, "scopes": ["events:write"]},
    {"name": "k"},
    {"name": "k", "scopes": []},
    {"name": "k", "scopes": "events:write"},
    {"name": "k", "scopes": ["events:write", "admin"]},
    {"name": "k", "scopes": [1]},
])
def test_create_refuses_a_bad_name_or_scope_list(server, boss, body):
    before = server.query("SELECT COUNT(*) FROM api_keys")[0][0]
    assert_error(lf.post(server, "/api/admin/api-keys", boss.headers, body), 400, "validation_error")
    assert server.query("SELECT COUNT(*) FROM api_keys")[0][0] == before


def test_a_name_of_100_characters_and_repeated_scopes_are_fine(server, boss):
    answer = create_key(server, boss, ["rewards:read", "rewards:read"], name="é" * 100)
    assert answer.status_code == 201, answer.text
    assert answer.json()["scopes"] == ["rewards:read"]


def test_key_admin_routes_need_an_admin_token(server, boss):
    key = new_key(server, boss)
    _, user_headers = flows.new_user(server)
    for method, path in [("POST", "/api/admin/api-keys"), ("GET", "/api/admin/api-keys"),
                         ("DELETE", f"/api/admin/api-keys/{key['id']}")]:
        body = {"name": "k", "scopes": ["events:write"]}
        assert_error(requests.request(method, server.url(path), json=body, timeout=30), 401, "missing_token")
        assert_error(requests.request(method, server.url(path), headers=user_headers, json=body, timeout=30),
                     403, "forbidden")
        for header in ("X-Api-Key", "Bearer"):
            answer = requests.request(method, server.url(path), headers=with_key(key, header), json=body, timeout=30)
            assert_error(answer, 401, KEY_ON_A_TOKEN_ROUTE[header])
    assert listed(server, boss, key["id"])["revoked_at"] is None


def test_revoke_stops_the_key_at_once_and_is_listed(server, boss):
    key = new_key(server, boss)
    assert_error(v1_event(server, key, email=flows.new_email()), 404, "user_not_found")  # authenticated
    answer = requests.delete(server.url(f"/api/admin/api-keys/{key['id']}"), headers=boss.headers, timeout=30)
    assert answer.status_code == 200, answer.text
    revoked_at = answer.json()["revoked_at"]
    assert lf.TIMESTAMP.fullmatch(revoked_at) and "key" not in answer.json()
    assert_error(v1_event(server, key, email=flows.new_email()), 401, "invalid_api_key")
    assert listed(server, boss, key["id"])["revoked_at"] == revoked_at
    again = requests.delete(server.url(f"/api/admin/api-keys/{key['id']}"), headers=boss.headers, timeout=30)
    assert again.status_code == 200 and again.json()["revoked_at"] == revoked_at
    assert_error(requests.delete(server.url("/api/admin/api-keys/no-such-key"), headers=boss.headers, timeout=30),
                 404, "api_key_not_found")


def test_unknown_malformed_and_revoked_keys_are_refused_alike(server, boss):
    revoked = new_key(server, boss)
    requests.delete(server.url(f"/api/admin/api-keys/{revoked['id']}"), headers=boss.headers, timeout=30)
    unknown = "rk_" + "A" * 40
    bodies = set()
    for key_text in [revoked["key"], unknown, "rk_short", "not a key", revoked["key"].lower()]:
        for headers in ({"X-Api-Key": key_text}, {"Authorization": "Bearer " + key_text}):
            answer = lf.get(server, "/api/v1/users/someone/rewards", headers)
            bodies.add(assert_error(answer, 401, "invalid_api_key")["error"])
    assert_error(lf.get(server, "/api/v1/users/someone/rewards"), 401, "invalid_api_key")
    assert len(bodies) == 1


def test_a_key_works_in_either_header(server, boss):
    key = new_key(server, boss, ["rewards:read"])
    for header in ("X-Api-Key", "Bearer"):
        assert lf.get(server, "/api/v1/users/someone/rewards", with_key(key, header)).status_code == 200


@pytest.mark.parametrize("method,path,scope", [
    ("POST", "/api/v1/events", "events:write"),
    ("GET", "/api/v1/users/someone/rewards", "rewards:read"),
    ("GET", "/api/v1/users/someone/referrals", "referrals:read"),
    ("POST", "/api/v1/rewards/some-reward/credit", "rewards:write"),
    ("POST", "/api/v1/rewards/some-reward/revoke", "rewards:write"),
])
def test_a_key_without_the_scope_gets_403(server, boss, method, path, scope):
    others = [other for other in ALL_SCOPES if other != scope]
    lacking = new_key(server, boss, others)
    answer = requests.request(method, server.url(path), headers=with_key(lacking), json={}, timeout=30)
    assert_error(answer, 403, "insufficient_scope")
    holding = new_key(server, boss, [scope])
    answer = requests.request(method, server.url(path), headers=with_key(holding), json={}, timeout=30)
    assert answer.status_code not in (401, 403), answer.text


def test_login_tokens_never_reach_v1(server, boss):
    _, user_headers = flows.new_user(server)
    for headers in (boss.headers, user_headers):
        for method, path in [("POST", "/api/v1/events"), ("GET", "/api/v1/users/x/rewards"),
                             ("GET", "/api/v1/users/x/referrals"), ("POST", "/api/v1/rewards/x/credit")]:
            answer = requests.request(method, server.url(path), headers=headers, json={}, timeout=30)
            assert_error(answer, 401, "invalid_api_key")


@pytest.mark.parametrize("method,path", [
    ("POST", "/api/admin/events"), ("GET", "/api/admin/rewards"), ("POST", "/api/admin/rewards/x/credit"),
    ("GET", "/api/rewards/history"), ("GET", "/api/auth/sessions"), ("GET", "/api/referral/analytics/list"),
])
def test_keys_never_reach_user_or_admin_routes(server, boss, method, path):
    key = new_key(server, boss)
    for header in ("X-Api-Key", "Bearer"):
        answer = requests.request(method, server.url(path), headers=with_key(key, header), json={}, timeout=30)
        assert_error(answer, 401, KEY_ON_A_TOKEN_ROUTE[header])


def test_v1_event_behaves_as_the_admin_event_with_the_key_as_actor(server, boss):
    key = new_key(server, boss, ["events:write"])
    referrer = lf.user(server)
    referee, referral_id = lf.refer(server, referrer)
    external_id = "order-" + uuid.uuid4().hex
    first = v1_event(server, key, external_id, user_id=referee.id, amount=2599, currency="EUR",
                     occurred_at="2026-11-24T13:05:00Z")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["external_id"] == external_id and body["referral_id"] == referral_id
    assert [(r["reward_type"], r["reward_value"], r["reward_unit"]) for r in body["rewards"]] == \
        [("FIRST_ORDER", 500, "CASH")]
    again = v1_event(server, key, external_id, email=referee.email)
    assert again.status_code == 200 and again.json() == body
    actors = server.query("SELECT actor_id FROM reward_events WHERE reward_id = %s", (body["rewards"][0]["reward_id"],))
    assert actors == [("api_key:" + key["id"],)]


@pytest.mark.parametrize("extra", [
    {"amount": -1}, {"amount": 1.5}, {"amount": "100"}, {"currency": "eur"}, {"currency": "EURO"},
    {"currency": 978}, {"occurred_at": "yesterday"}, {"occurred_at": "2026-02-30T00:00:00Z"},
    {"type": "SIGNUP"},
])
def test_v1_event_refuses_bad_conversion_details(server, boss, extra):
    key = new_key(server, boss, ["events:write"])
    referee, _ = lf.refer(server, lf.user(server))
    before = server.query("SELECT COUNT(*) FROM events")[0][0]
    assert_error(v1_event(server, key, user_id=referee.id, **extra), 400, "validation_error")
    assert server.query("SELECT COUNT(*) FROM events")[0][0] == before


def test_v1_event_accepts_a_zero_amount_without_currency(server, boss):
    key = new_key(server, boss, ["events:write"])
    referee, _ = lf.refer(server, lf.user(server))
    assert v1_event(server, key, user_id=referee.id, amount=0).status_code == 201


def test_v1_reads_a_users_rewards_and_referrals_page_by_page(server, boss):
    key = new_key(server, boss, ["rewards:read", "referrals:read"])
    referrer = lf.user(server)
    referrals = [lf.refer(server, referrer)[1] for _ in range(3)]
    pages = lf.all_pages(server, f"/api/v1/users/{referrer.id}/rewards", with_key(key), limit=2)
    assert [len(page) for page in pages] == [2, 1]
    rewards = [item for page in pages for item in page]
    assert {r["referral_id"] for r in rewards} == set(referrals)
    assert set(rewards[0]) == {"reward_id", "referral_id", "reward_type", "reward_value", "reward_unit",
                               "beneficiary", "status", "created_at", "credited_at", "revoked_at", "available_at"}
    pages = lf.all_pages(server, f"/api/v1/users/{referrer.id}/referrals", with_key(key), limit=2)
    assert [len(page) for page in pages] == [2, 1]
    listed_referrals = [item for page in pages for item in page]
    assert [r["referral_id"] for r in listed_referrals] == list(reversed(referrals))
    assert set(listed_referrals[0]) == {"referral_id", "used_by_user_id", "used_by_name", "used_at", "status"}
    assert lf.get(server, "/api/v1/users/nobody/referrals", with_key(key)).json() == []


def test_v1_credit_and_revoke_record_the_key_in_the_history(server, boss):
    key = new_key(server, boss, ["rewards:write"])
    _, referral_id = lf.refer(server, lf.user(server))
    reward_id = lf.reward_of(server, referral_id)["id"]
    credited = lf.post(server, f"/api/v1/rewards/{reward_id}/credit", with_key(key))
    assert credited.status_code == 200, credited.text
    assert credited.json() == {"message": "Reward credited successfully", "reward_id": reward_id,
                               "status": "CREDITED"}
    assert_error(lf.post(server, f"/api/v1/rewards/{reward_id}/credit", with_key(key)), 409, "reward_not_pending")
    assert_error(lf.post(server, f"/api/v1/rewards/{reward_id}/revoke", with_key(key), {}), 400, "validation_error")
    revoked = lf.post(server, f"/api/v1/rewards/{reward_id}/revoke", with_key(key), {"reason": "chargeback"})
    assert revoked.status_code == 200 and revoked.json()["status"] == "REVOKED"
    assert_error(lf.post(server, "/api/v1/rewards/no-such/credit", with_key(key)), 404, "reward_not_found")
    moves = [(m["to"], m["actor_id"]) for m in lf.history(server, boss, reward_id)]
    assert moves[-2:] == [("CREDITED", "api_key:" + key["id"]), ("REVOKED", "api_key:" + key["id"])]


def test_idempotency_keys_are_scoped_to_the_api_key(server, boss):
    first_key, second_key = new_key(server, boss, ["events:write"]), new_key(server, boss, ["events:write"])
    referee, _ = lf.refer(server, lf.user(server))
    idem = {"Idempotency-Key": "same-" + uuid.uuid4().hex}
    body = {"type": "FIRST_ORDER", "external_id": "order-" + uuid.uuid4().hex, "user_id": referee.id}
    first = lf.post(server, "/api/v1/events", with_key(first_key), body, **idem)
    assert first.status_code == 201, first.text
    replay = lf.post(server, "/api/v1/events", with_key(first_key), body, **idem)
    assert replay.status_code == 201 and replay.headers.get("Idempotency-Replayed") == "true"
    assert replay.json() == first.json()
    other_body = {**body, "external_id": "order-" + uuid.uuid4().hex}
    assert_error(lf.post(server, "/api/v1/events", with_key(first_key), other_body, **idem),
                 422, "idempotency_key_mismatch")
    # The same Idempotency-Key from another API key is another request.
    other = lf.post(server, "/api/v1/events", with_key(second_key), other_body, **idem)
    assert other.status_code == 201 and "Idempotency-Replayed" not in other.headers
    scopes = {row[0] for row in server.query("SELECT scope FROM idempotency_keys WHERE idem_key = %s",
                                             (idem["Idempotency-Key"],))}
    assert scopes == {"api_key:" + first_key["id"], "api_key:" + second_key["id"]}


def test_last_used_at_is_written_at_most_once_a_minute(server, boss):
    key = new_key(server, boss, ["rewards:read"])
    path = "/api/v1/users/someone/rewards"
    assert lf.get(server, path, with_key(key)).status_code == 200
    first_use = key_row(server, key["id"])[7]
    assert first_use is not None
    assert listed(server, boss, key["id"])["last_used_at"] is not None
    for _ in range(3):
        assert lf.get(server, path, with_key(key)).status_code == 200
    assert key_row(server, key["id"])[7] == first_use
    # A minute later (moved back in the database), the next use writes again.
    server.query("UPDATE api_keys SET last_used_at = last_used_at - 61000 WHERE id = %s", (key["id"],))
    assert lf.get(server, path, with_key(key)).status_code == 200
    assert key_row(server, key["id"])[7] >= first_use


def test_keys_never_reach_the_log(server, boss):
    key = new_key(server, boss)
    revoked = new_key(server, boss)
    requests.delete(server.url(f"/api/admin/api-keys/{revoked['id']}"), headers=boss.headers, timeout=30)
    for key_text in (key["key"], revoked["key"]):
        for headers in ({"X-Api-Key": key_text}, {"Authorization": "Bearer " + key_text}):
            lf.post(server, "/api/v1/events", headers, {"type": "nope"})
            lf.get(server, "/api/admin/rewards", headers)
            lf.get(server, "/api/v1/users/someone/rewards", headers)
    log = server.log_text()
    assert key["key"] not in log and revoked["key"] not in log
    assert key["key"][3:] not in log


def test_revoke_on_one_instance_holds_at_once_on_another(server, boss, make_server):
    other = make_server(env=lf.env(API_KEY_RATE_LIMIT="0"), database_url=server.database_url)
    key = new_key(server, boss, ["rewards:read"])
    path = "/api/v1/users/someone/rewards"
    assert lf.get(other, path, with_key(key)).status_code == 200
    assert lf.get(server, path, with_key(key)).status_code == 200
    answer = requests.delete(server.url(f"/api/admin/api-keys/{key['id']}"), headers=boss.headers, timeout=30)
    assert answer.status_code == 200
    assert_error(lf.get(other, path, with_key(key)), 401, "invalid_api_key")
    assert_error(lf.get(server, path, with_key(key)), 401, "invalid_api_key")
    # And a key made on the other instance works here.
    made_there = lf.post(other, "/api/admin/api-keys", boss.headers, {"name": "b", "scopes": ["rewards:read"]})
    assert made_there.status_code == 201, made_there.text
    assert lf.get(server, path, {"X-Api-Key": made_there.json()["key"]}).status_code == 200


def test_each_key_has_its_own_request_rate(make_server):
    limited = make_server(env=lf.env(API_KEY_RATE_LIMIT="3/m"))
    boss = lf.admin(limited)
    first, second = new_key(limited, boss, ["rewards:read"]), new_key(limited, boss, ["rewards:read"])
    path = "/api/v1/users/someone/rewards"
    for _ in range(3):
        assert lf.get(limited, path, with_key(first)).status_code == 200
    over = lf.get(limited, path, with_key(first))
    assert_error(over, 429, "rate_limited")
    assert int(over.headers["Retry-After"]) >= 1
    assert lf.get(limited, path, with_key(second)).status_code == 200


def test_refused_keys_are_rate_limited_per_client_ip(make_server):
    limited = make_server(env={"RATE_LIMIT_PER_IP": "3/m", "API_KEY_RATE_LIMIT": "0"})
    path = "/api/v1/users/someone/rewards"
    for _ in range(3):
        assert_error(lf.get(limited, path, {"X-Api-Key": "rk_" + "B" * 40}), 401, "invalid_api_key")
    assert_error(lf.get(limited, path, {"X-Api-Key": "rk_" + "C" * 40}), 429, "rate_limited")


def test_refused_keys_count_an_ipv6_client_by_its_slash_64(make_server):
    limited = make_server(env={"RATE_LIMIT_PER_IP": "3/m", "API_KEY_RATE_LIMIT": "0",
                               "TRUSTED_PROXIES": "127.0.0.1"})
    path = "/api/v1/users/someone/rewards"

    def refused_from(address: str):
        return lf.get(limited, path, {"X-Api-Key": "rk_" + "D" * 40, "X-Forwarded-For": address})

    for n in range(3):
        assert_error(refused_from(f"2001:db8:9:1::{n + 1}"), 401, "invalid_api_key")
    assert_error(refused_from("2001:db8:9:1:ffff::1"), 429, "rate_limited")
    assert_error(refused_from("2001:db8:9:2::1"), 401, "invalid_api_key")


def test_cli_creates_a_key_and_prints_it_once(server, boss):
    done = flows.cli(server, "api-keys", "create", "--name", "from the shell", "--scope", "rewards:read",
                     "--scope", "referrals:read")
    assert done.returncode == 0, done.stderr
    key_text = done.stdout.strip()
    assert KEY_SHAPE.fullmatch(key_text), done.stdout
    assert key_text not in done.stderr and key_text[:8] in done.stderr
    (row,) = server.query("SELECT id, name, created_by, scope_bits FROM api_keys WHERE prefix = %s",
                          (key_text[:8],))
    assert row[1:] == ("from the shell", "cli", 2 | 8)
    assert lf.get(server, "/api/v1/users/x/referrals", {"X-Api-Key": key_text}).status_code == 200
    assert_error(lf.post(server, "/api/v1/events", {"X-Api-Key": key_text}, {}), 403, "insufficient_scope")


@pytest.mark.parametrize("args", [
    ["--name", "k", "--scope", "admin"],
    ["--name", "", "--scope", "events:write"],
    ["--name", "k"],
    ["--scope", "events:write"],
])
def test_cli_refuses_a_bad_key_request(server, args):
    before = server.query("SELECT COUNT(*) FROM api_keys")[0][0]
    done = flows.cli(server, "api-keys", "create", *args)
    assert done.returncode != 0 and done.stdout == ""
    assert server.query("SELECT COUNT(*) FROM api_keys")[0][0] == before
