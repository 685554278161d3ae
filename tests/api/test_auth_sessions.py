"""Sessions: logout, logout-all, the session list, revoking one
session, last_seen_at writes, and logout seen by a second instance."""

from __future__ import annotations

import pytest
import requests

import flows
import harness
from auth_checks import (ISO_MS, UNLIMITED, assert_session_ended, iso, module_server, post, session_token, token_parts,
                         verify_session)
from checks import JSON_TYPE, assert_error

SESSION_FIELDS = {"id", "created_at", "expires_at", "last_seen_at", "ip", "user_agent", "current"}
CLEARED_COOKIE = "token=; HttpOnly; Secure; SameSite=Lax; Max-Age=0; Path=/"


@pytest.fixture(scope="module")
def server(databases, tmp_path_factory):
    yield from module_server(databases, tmp_path_factory, {**UNLIMITED, "SESSION_TTL": "2h"})


def login_as(server, email: str, user_agent: str) -> str:
    response = requests.post(server.url("/api/auth/login"), json={"email": email, "password": flows.PASSWORD},
                             headers={"User-Agent": user_agent}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["token"]


def sid(token: str) -> str:
    return token_parts(token)[1]["sid"]


def list_sessions(server, token: str, path: str = "/api/auth/sessions") -> list[dict]:
    response = requests.get(server.url(path), headers=flows.bearer(token), timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == JSON_TYPE
    return response.json()


def revoke(server, token: str, session_id: str) -> requests.Response:
    return requests.delete(server.url(f"/api/auth/sessions/{session_id}"), headers=flows.bearer(token), timeout=30)


def last_seen(server, token: str) -> int:
    return server.query("SELECT last_seen_at FROM sessions WHERE id = %s", (sid(token),))[0][0]


# -- logout


def test_logout_kills_the_token_at_once_and_clears_the_cookie(server):
    email, token = session_token(server)
    other = flows.token_for(server, email)
    response = post(server, "/api/auth/logout", headers=flows.bearer(token))
    assert response.status_code == 200, response.text
    assert response.json() == {"valid": True, "message": "Logged out successfully."}
    assert response.headers["Set-Cookie"] == CLEARED_COOKIE
    assert_error(verify_session(server, token), 401, "session_invalid")
    assert server.query("SELECT COUNT(*) FROM sessions WHERE id = %s", (sid(token),))[0][0] == 0
    # Only that session: the same user's other login lives on.
    assert verify_session(server, other).status_code == 200


def test_logout_with_the_cookie(server):
    _, token = session_token(server)
    response = post(server, "/api/auth/logout", headers={"Cookie": f"token={token}", "Origin": harness.PUBLIC_URL})
    assert response.status_code == 200, response.text
    assert response.headers["Set-Cookie"] == CLEARED_COOKIE
    assert_error(verify_session(server, headers={"Cookie": f"token={token}"}), 401, "session_invalid")


def test_logout_needs_a_token(server):
    assert_error(post(server, "/api/auth/logout"), 401, "missing_token")
    assert_error(post(server, "/api/auth/logout", headers=flows.bearer("garbage")), 401, "invalid_token")


def test_logout_twice_is_401_the_second_time(server):
    _, token = session_token(server)
    assert post(server, "/api/auth/logout", headers=flows.bearer(token)).status_code == 200
    assert_error(post(server, "/api/auth/logout", headers=flows.bearer(token)), 401, "session_invalid")


def test_logout_all_kills_every_session_of_the_user_only(server):
    email, token = session_token(server)
    others = [flows.token_for(server, email) for _ in range(2)]
    _, stranger = session_token(server)
    response = post(server, "/api/auth/logout-all", headers=flows.bearer(token))
    assert response.status_code == 200, response.text
    assert response.json()["valid"] is True
    for dead in (token, *others):
        assert_error(verify_session(server, dead), 401, "session_invalid")
    user_id = token_parts(token)[1]["sub"]
    assert server.query("SELECT COUNT(*) FROM sessions WHERE user_id = %s", (user_id,))[0][0] == 0
    assert verify_session(server, stranger).status_code == 200
    # Logging in again works as usual.
    assert verify_session(server, flows.token_for(server, email)).status_code == 200


# -- the session list


def test_sessions_list_the_callers_live_sessions(server):
    email = flows.register(server)
    first = login_as(server, email, "agent-one/1.0")
    second = login_as(server, email, "agent-two/2.0")
    session_token(server)  # someone else's session is not listed
    listed = list_sessions(server, first)
    assert isinstance(listed, list) and len(listed) == 2
    by_id = {entry["id"]: entry for entry in listed}
    assert set(by_id) == {sid(first), sid(second)}
    for entry in listed:
        assert set(entry) == SESSION_FIELDS
        for field in ("created_at", "expires_at", "last_seen_at"):
            assert ISO_MS.fullmatch(entry[field]), entry
        assert entry["ip"] == "127.0.0.1"
    assert by_id[sid(first)]["user_agent"] == "agent-one/1.0"
    assert by_id[sid(second)]["user_agent"] == "agent-two/2.0"
    assert by_id[sid(first)]["current"] is True
    assert by_id[sid(second)]["current"] is False
    # From the other token, `current` follows the caller.
    flags = {entry["id"]: entry["current"] for entry in list_sessions(server, second, "/api/auth/sessions/")}
    assert flags == {sid(first): False, sid(second): True}


def test_session_times_match_the_database(server):
    _, token = session_token(server)
    (entry,) = list_sessions(server, token)
    created, expires = server.query("SELECT created_at, expires_at FROM sessions WHERE id = %s", (sid(token),))[0]
    assert expires - created == 2 * 3600 * 1000
    assert entry["created_at"] == iso(created) and entry["expires_at"] == iso(expires)


def test_sessions_need_a_token(server):
    response = requests.get(server.url("/api/auth/sessions"), timeout=30)
    assert_error(response, 401, "missing_token")


# -- revoking one session


def test_delete_session_kills_that_token_only(server):
    email = flows.register(server)
    keeper = flows.token_for(server, email)
    doomed = flows.token_for(server, email)
    response = revoke(server, keeper, sid(doomed))
    assert response.status_code == 200, response.text
    assert response.json()["valid"] is True
    assert_error(verify_session(server, doomed), 401, "session_invalid")
    assert verify_session(server, keeper).status_code == 200
    assert [entry["id"] for entry in list_sessions(server, keeper)] == [sid(keeper)]


def test_delete_someone_elses_session_is_404_and_leaves_it_alive(server):
    _, mine = session_token(server)
    _, theirs = session_token(server)
    response = revoke(server, mine, sid(theirs))
    assert_error(response, 404, "session_not_found")
    assert verify_session(server, theirs).status_code == 200


def test_delete_an_unknown_session_is_404(server):
    _, token = session_token(server)
    assert_error(revoke(server, token, "no-such-session"), 404, "session_not_found")


def test_delete_an_already_revoked_session_is_404(server):
    email = flows.register(server)
    keeper, doomed = flows.token_for(server, email), flows.token_for(server, email)
    assert revoke(server, keeper, sid(doomed)).status_code == 200
    assert_error(revoke(server, keeper, sid(doomed)), 404, "session_not_found")


def test_delete_session_needs_a_token(server):
    _, token = session_token(server)
    response = requests.delete(server.url(f"/api/auth/sessions/{sid(token)}"), timeout=30)
    assert_error(response, 401, "missing_token")
    assert verify_session(server, token).status_code == 200


# -- last_seen_at


def test_last_seen_at_is_not_rewritten_on_every_request(server):
    _, token = session_token(server)
    before = last_seen(server, token)
    for _ in range(3):
        assert verify_session(server, token).status_code == 200
    assert last_seen(server, token) == before
    listed = list_sessions(server, token)[0]["last_seen_at"]
    assert list_sessions(server, token)[0]["last_seen_at"] == listed


def test_a_stale_last_seen_at_is_refreshed(server):
    # The control for the test above: the write does happen once it is due.
    _, token = session_token(server)
    stale = last_seen(server, token) - 10 * 60 * 1000
    server.query("UPDATE sessions SET last_seen_at = %s WHERE id = %s", (stale, sid(token)))
    assert verify_session(server, token).status_code == 200
    assert last_seen(server, token) > stale + 9 * 60 * 1000


# -- several instances


def test_logout_through_one_instance_kills_the_token_on_another(make_server):
    first = make_server(env=UNLIMITED)
    second = make_server(env=UNLIMITED, database_url=first.database_url)
    email = flows.register(first)
    token = flows.token_for(first, email)
    assert verify_session(second, token).status_code == 200
    assert post(first, "/api/auth/logout", headers=flows.bearer(token)).status_code == 200
    assert_session_ended(second, token)

    tokens = [flows.token_for(second, email) for _ in range(2)]
    assert all(verify_session(first, t).status_code == 200 for t in tokens)
    assert post(second, "/api/auth/logout-all", headers=flows.bearer(tokens[0])).status_code == 200
    for dead in tokens:
        assert_session_ended(first, dead)
