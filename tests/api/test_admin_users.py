"""GET /api/admin/users?q= and POST /api/admin/users/{id}/promote|demote (docs/API.md, Admin: users)."""

from __future__ import annotations

import uuid

import requests

import flows
from checks import assert_error


def users(server, headers, **params) -> requests.Response:
    return requests.get(server.url("/api/admin/users"), headers=headers, params=params, timeout=30)


def role(server, headers, user_id: str, verb: str) -> requests.Response:
    return requests.post(server.url(f"/api/admin/users/{user_id}/{verb}"), headers=headers, timeout=30)


def is_admin_in_db(server, user_id: str) -> bool:
    return bool(server.query("SELECT is_admin FROM users WHERE id = %s", (user_id,))[0][0])


def test_search_by_email_prefix_any_case_newest_first(server):
    _, admin = flows.new_admin(server)
    tag = uuid.uuid4().hex[:8]
    first = flows.register(server, email=f"find-{tag}-a@example.com")
    second = flows.register(server, email=f"find-{tag}-b@example.com")
    flows.register(server, email=f"other-{tag}@example.com")
    answer = users(server, admin, q=f"  FIND-{tag}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [user["email"] for user in body] == [second, first]
    assert set(body[0]) == {"id", "name", "email", "is_verified", "is_admin", "created_at"}
    assert "password_hash" not in answer.text


def test_like_wildcards_in_the_prefix_are_literal(server):
    _, admin = flows.new_admin(server)
    tag = uuid.uuid4().hex[:8]
    flows.register(server, email=f"wild{tag}x@example.com")
    for pattern in (f"wild%{tag}", f"wil_{tag}", "%", "_"):
        answer = users(server, admin, q=pattern)
        assert answer.status_code == 200, answer.text
        assert answer.json() == [], pattern
    underscored = flows.register(server, email=f"under_{tag}@example.com")
    assert [u["email"] for u in users(server, admin, q=f"under_{tag}").json()] == [underscored]


def test_pages_follow_the_link_header_without_repeats(server):
    _, admin = flows.new_admin(server)
    tag = uuid.uuid4().hex[:8]
    made = [flows.register(server, email=f"page-{tag}-{n}@example.com") for n in range(5)]
    seen, url, params = [], server.url("/api/admin/users"), {"q": f"page-{tag}", "limit": 2}
    while url:
        answer = requests.get(url, headers=admin, params=params, timeout=30)
        assert answer.status_code == 200, answer.text
        seen += [user["email"] for user in answer.json()]
        url = answer.links.get("next", {}).get("url")
        url, params = (server.url(url) if url else None), None
    assert seen == list(reversed(made))


def test_bad_limit_or_cursor_is_validation_error(server):
    _, admin = flows.new_admin(server)
    assert_error(users(server, admin, limit=0), 400, "validation_error")
    assert_error(users(server, admin, cursor="nope"), 400, "validation_error")
    answer = users(server, admin, q="a" * 255)
    assert_error(answer, 400, "validation_error")


def test_only_admins(server):
    _, member = flows.new_user(server)
    answer = users(server, {})
    assert_error(answer, 401, "missing_token")
    answer = users(server, member)
    assert_error(answer, 403, "forbidden")
    someone = flows.user_id(server, flows.register(server))
    answer = role(server, member, someone, "promote")
    assert_error(answer, 403, "forbidden")
    assert not is_admin_in_db(server, someone)


def test_promote_then_demote(server):
    _, admin = flows.new_admin(server)
    email, member = flows.new_user(server)
    member_id = flows.user_id(server, email)
    answer = role(server, admin, member_id, "promote")
    assert answer.status_code == 200, answer.text
    assert answer.json()["is_admin"] is True and answer.json()["id"] == member_id
    assert is_admin_in_db(server, member_id)
    assert users(server, member).status_code == 200  # the same token now passes admin routes
    answer = role(server, admin, member_id, "demote")
    assert (answer.status_code, answer.json()["is_admin"]) == (200, False)
    assert not is_admin_in_db(server, member_id)
    answer = users(server, member)
    assert_error(answer, 403, "forbidden")


def test_unknown_user_is_404(server):
    _, admin = flows.new_admin(server)
    for verb in ("promote", "demote"):
        answer = role(server, admin, "no-such-user", verb)
        assert_error(answer, 404, "user_not_found")


def test_an_admin_cannot_demote_themselves(server):
    email, admin = flows.new_admin(server)
    admin_id = flows.user_id(server, email)
    answer = role(server, admin, admin_id, "demote")
    assert_error(answer, 409, "self_demotion")
    assert is_admin_in_db(server, admin_id)


def test_promoting_an_unverified_account_is_refused(server):
    # Anyone can sign up with any address: an unverified account is not
    # yet anyone's, and must not become an admin (the command line refuses too).
    _, admin = flows.new_admin(server)
    email = flows.new_email()
    assert flows.signup(server, email).status_code == 201
    member_id = flows.user_id(server, email)
    answer = role(server, admin, member_id, "promote")
    assert_error(answer, 409, "user_not_verified")
    assert not is_admin_in_db(server, member_id)
    assert role(server, admin, member_id, "demote").status_code == 200
