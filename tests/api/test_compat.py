"""A client written for the original keeps working. This walks the
original's paths in the order of its Postman collection (auth -> generate ->
apply -> analytics -> history -> admin -> logout), authenticating with the
`token` cookie as its clients did, and checks that each answers exactly like
its canonical twin: same status, same body (or, where each call creates
something new, the same body shape)."""

from __future__ import annotations

import dataclasses

import pytest
import requests

import flows
import harness
from checks import assert_error

ENV = {"RATE_LIMIT_PER_IP": "0", "REFERRAL_FLAG_SAME_IP": "false"}


@dataclasses.dataclass
class Client:
    """An account seen as the original's web client saw it: a cookie, sent by
    a browser on the server's own site, so with its Origin (browsers send
    one with every POST; cookie writes need it, docs/API.md)."""

    email: str
    token: str = ""

    @property
    def cookie(self) -> dict:
        return {"Cookie": f"token={self.token}", "Origin": harness.PUBLIC_URL}


def call(server, method: str, path: str, client: Client | None = None, body: dict | None = None,
         headers: dict | None = None) -> requests.Response:
    all_headers = {**(client.cookie if client else {}), **(headers or {})}
    return requests.request(method, server.url(path), json=body, headers=all_headers, timeout=30)


def answer(response: requests.Response) -> tuple:
    return response.status_code, response.headers.get("Content-Type"), response.json()


def shape(value):
    """Keys and value types, not values: for calls that create new ids."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def same(original: requests.Response, canonical: requests.Response) -> None:
    assert answer(original) == answer(canonical), f"{original.url}: {original.text}\n{canonical.url}: {canonical.text}"


def same_shape(original: requests.Response, canonical: requests.Response, status: int) -> None:
    assert (original.status_code, canonical.status_code) == (status, status), original.text + canonical.text
    assert original.headers.get("Content-Type") == canonical.headers.get("Content-Type")
    assert shape(original.json()) == shape(canonical.json())


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    import harness

    pool = harness.ServerPool(databases, tmp_path_factory.mktemp("compat"))
    try:
        yield pool.start(env=ENV)
    finally:
        pool.close()


@pytest.fixture(scope="module")
def admin(server) -> Client:
    email = flows.new_email("admin")
    done = flows.cli(server, "users", "create-admin", "--email", email, "--name", "Admin", "--password-stdin",
                     stdin=flows.PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    client = Client(email, flows.token_for(server, email))
    # The original needed a config before any apply; set one up the canonical way.
    flows.reward_config(server, client.cookie, "SIGNUP", 100, "POINTS")
    return client


# --------------------------------------------------------------------------
# the Postman collection's folders, in order


def sign_up_and_verify(server, original_client: Client, canonical_client: Client) -> None:
    def body(client):
        return {"name": "Compat User", "email": client.email, "password": flows.PASSWORD}

    same_shape(call(server, "POST", "/signup", body=body(original_client)),
               call(server, "POST", "/api/auth/signup", body=body(canonical_client)), 201)
    codes = {client.email: flows.latest_code(server, client.email) for client in (original_client, canonical_client)}
    def otp(client):
        return {"email": client.email, "otp": codes[client.email]}

    same(call(server, "POST", "/verify-otp", body=otp(original_client)),
         call(server, "POST", "/api/auth/verify-otp", body=otp(canonical_client)))


def log_in(server, client: Client, path: str) -> requests.Response:
    response = call(server, "POST", path, body={"email": client.email, "password": flows.PASSWORD})
    assert response.status_code == 200, response.text
    client.token = response.cookies.get("token") or response.headers["Set-Cookie"].split(";")[0].split("=", 1)[1]
    assert client.token == response.json()["token"]
    return response


def auth_folder(server, alice: Client, bob: Client) -> None:
    sign_up_and_verify(server, alice, bob)
    canonical = log_in(server, alice, "/api/auth/login")
    original = log_in(server, alice, "/login")  # alice's client now holds this cookie
    assert original.json()["user"] == canonical.json()["user"]
    cookie_attributes = original.headers["Set-Cookie"].split(";")[1:]
    assert cookie_attributes == canonical.headers["Set-Cookie"].split(";")[1:]
    log_in(server, bob, "/login")
    same(call(server, "POST", "/verify-session", alice), call(server, "POST", "/api/auth/verify-session", alice))


def generate_folder(server, alice: Client, bob: Client) -> str:
    same_shape(call(server, "POST", "/api/referrals/generate", alice),
               call(server, "POST", "/api/referral/generate", bob), 201)
    # Asked again, both paths return the code that exists.
    same(call(server, "POST", "/api/referrals/generate", alice), call(server, "POST", "/api/referral/generate", alice))
    same(call(server, "POST", "/api/referrals/generate/", bob), call(server, "POST", "/api/referral/generate", bob))
    return call(server, "POST", "/api/referrals/generate", alice).json()["referral_code"]


def new_referee(server) -> Client:
    client = Client(flows.register(server))
    log_in(server, client, "/login")
    return client


def apply_folder(server, code: str) -> None:
    carol, dave = new_referee(server), new_referee(server)
    original = call(server, "POST", "/api/referrals/apply", carol, {"referral_code": code})
    canonical = call(server, "POST", "/api/referral/apply", dave, {"referral_code": code})
    same_shape(original, canonical, 200)
    assert {**original.json(), "referral_id": None} == {**canonical.json(), "referral_id": None}
    # A second try is refused the same way on both paths.
    same(call(server, "POST", "/api/referrals/apply", carol, {"referral_code": code}),
         call(server, "POST", "/api/referral/apply", carol, {"referral_code": code}))


def analytics_folder(server, alice: Client) -> None:
    for view in ("summary", "list", "timeline"):
        original = call(server, "GET", f"/api/referrals/analytics/{view}", alice)
        same(original, call(server, "GET", f"/api/referral/analytics/{view}", alice))
        assert original.status_code == 200, original.text
    summary = call(server, "GET", "/api/referrals/analytics/summary", alice).json()
    assert (summary["total_referrals"], summary["pending_referrals"]) == (2, 2)


def history_folder(server, alice: Client) -> None:
    original = call(server, "GET", "/api/referrals/rewards/history", alice)
    same(original, call(server, "GET", "/api/rewards/history", alice))
    assert [reward["status"] for reward in original.json()] == ["PENDING", "PENDING"]


def admin_folder(server, admin: Client, alice: Client) -> None:
    top = call(server, "GET", "/api/admin/referrals/top", admin)
    same(top, call(server, "GET", "/api/admin/referral/top", admin))
    assert top.json()[0]["email"] == alice.email
    same(call(server, "GET", "/api/admin/referrals/top", alice), call(server, "GET", "/api/admin/referral/top", alice))
    body = {"reward_type": "SIGNUP", "reward_value": 120, "reward_unit": "POINTS"}
    original = call(server, "POST", "/api/admin/reward-config/create", admin, body)
    canonical = call(server, "POST", "/api/admin/reward-config", admin, body)
    same_shape(original, canonical, 201)
    assert {**original.json(), "id": None, "created_at": None} == {**canonical.json(), "id": None, "created_at": None}
    same(call(server, "POST", "/api/admin/reward-config/create", alice, body),
         call(server, "POST", "/api/admin/reward-config", alice, body))


def logout_folder(server, alice: Client, bob: Client) -> None:
    original = call(server, "POST", "/logout", alice)
    canonical = call(server, "POST", "/api/auth/logout", bob)
    same(original, canonical)
    assert original.headers["Set-Cookie"] == canonical.headers["Set-Cookie"]
    # The dead cookie is refused alike on both paths.
    same(call(server, "POST", "/verify-session", alice), call(server, "POST", "/api/auth/verify-session", alice))
    assert_error(call(server, "POST", "/verify-session", alice), 401, "session_invalid")


def test_original_client_walks_its_postman_collection(server, admin):
    alice, bob = Client(flows.new_email("alice")), Client(flows.new_email("bob"))
    auth_folder(server, alice, bob)
    code = generate_folder(server, alice, bob)
    apply_folder(server, code)
    analytics_folder(server, alice)
    history_folder(server, alice)
    admin_folder(server, admin, alice)
    logout_folder(server, alice, bob)


# --------------------------------------------------------------------------
# refusals


ORIGINAL_PATHS = [
    ("POST", "/verify-session", "/api/auth/verify-session"),
    ("POST", "/logout", "/api/auth/logout"),
    ("POST", "/api/referrals/generate", "/api/referral/generate"),
    ("POST", "/api/referrals/apply", "/api/referral/apply"),
    ("GET", "/api/referrals/analytics/summary", "/api/referral/analytics/summary"),
    ("GET", "/api/referrals/analytics/list", "/api/referral/analytics/list"),
    ("GET", "/api/referrals/analytics/timeline", "/api/referral/analytics/timeline"),
    ("GET", "/api/referrals/rewards/history", "/api/rewards/history"),
    ("GET", "/api/admin/referrals/top", "/api/admin/referral/top"),
    ("POST", "/api/admin/reward-config/create", "/api/admin/reward-config"),
]


@pytest.mark.parametrize("method, original, canonical", ORIGINAL_PATHS)
def test_original_paths_refuse_like_their_twins(server, method, original, canonical):
    for cookie in (None, Client("nobody@example.com", "not.a.token")):
        same(call(server, method, original, cookie), call(server, method, canonical, cookie))
    answer = call(server, method, original)
    assert_error(answer, 401, "missing_token")


def test_bad_input_is_refused_alike(server, admin):
    bad_timeline = "?from=2024-13-01"
    same(call(server, "GET", "/api/referrals/analytics/timeline" + bad_timeline, admin),
         call(server, "GET", "/api/referral/analytics/timeline" + bad_timeline, admin))
    bad_config = {"reward_type": "SIGNUP", "reward_value": -1, "reward_unit": "POINTS"}
    same(call(server, "POST", "/api/admin/reward-config/create", admin, bad_config),
         call(server, "POST", "/api/admin/reward-config", admin, bad_config))
    bad_signup = {"email": "x"}
    same(call(server, "POST", "/signup", body=bad_signup), call(server, "POST", "/api/auth/signup", body=bad_signup))
