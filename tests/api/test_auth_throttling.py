"""Throttling: LOGIN_MAX_FAILURES per account (kept in the
database, so it holds across instances) and RATE_LIMIT_PER_IP per endpoint."""

from __future__ import annotations

import time

import requests

import flows
from auth_checks import UNLIMITED, post
from checks import assert_error, assert_retry_after

WRONG = "not the password 1"


def failed_logins(server, email: str) -> int:
    rows = server.query("SELECT failures FROM login_failures WHERE email = %s", (email,))
    return rows[0][0] if rows else 0


def test_after_max_failures_even_the_right_password_is_429_on_every_instance(make_server):
    first = make_server(env={**UNLIMITED, "LOGIN_MAX_FAILURES": "3"})
    second = make_server(env={**UNLIMITED, "LOGIN_MAX_FAILURES": "3"}, database_url=first.database_url)
    email = flows.register(first)
    for _ in range(3):
        assert_error(flows.login(first, email, WRONG), 401, "invalid_credentials")
    for server in (second, first):
        response = flows.login(server, email)
        assert_error(response, 429, "too_many_attempts")
        assert_retry_after(response)
        assert "Set-Cookie" not in response.headers
    # The lock is a backoff, not a ban: once it has passed the password works.
    time.sleep(int(response.headers["Retry-After"]) + 0.2)
    assert flows.login(second, email).status_code == 200
    assert failed_logins(first, email) == 0


def test_failures_count_only_in_a_row(make_server):
    server = make_server(env={**UNLIMITED, "LOGIN_MAX_FAILURES": "3"})
    email = flows.register(server)
    for _ in range(2):
        assert_error(flows.login(server, email, WRONG), 401, "invalid_credentials")
    assert flows.login(server, email).status_code == 200
    for _ in range(2):
        assert_error(flows.login(server, email, WRONG), 401, "invalid_credentials")
    assert flows.login(server, email).status_code == 200


def test_failures_below_the_limit_do_not_lock(make_server):
    server = make_server(env={**UNLIMITED, "LOGIN_MAX_FAILURES": "3"})
    email = flows.register(server)
    for _ in range(2):
        flows.login(server, email, WRONG)
    assert failed_logins(server, email) == 2
    assert flows.login(server, email).status_code == 200


def test_fourth_request_from_one_ip_to_an_auth_endpoint_is_429(make_server):
    server = make_server(env={"RATE_LIMIT_PER_IP": "3/m"})
    for _ in range(3):
        assert_error(flows.login(server, flows.new_email()), 401, "invalid_credentials")
    response = flows.login(server, flows.new_email())
    assert_error(response, 429, "rate_limited")
    assert_retry_after(response, 1, 60)
    # The limit is per endpoint: signup from the same address still answers.
    assert flows.signup(server, flows.new_email()).status_code == 201


def test_ip_limit_covers_each_unauthenticated_auth_endpoint(make_server):
    server = make_server(env={"RATE_LIMIT_PER_IP": "3/m"})
    endpoints = {
        "/api/auth/signup": lambda: {"name": "X", "email": flows.new_email(), "password": flows.PASSWORD},
        "/api/auth/verify-otp": lambda: {"email": flows.new_email(), "otp": "123456"},
        "/api/auth/resend-otp": lambda: {"email": flows.new_email()},
        "/api/auth/password/forgot": lambda: {"email": flows.new_email()},
        "/api/auth/password/reset": lambda: {"email": flows.new_email(), "otp": "123456",
                                             "new_password": flows.PASSWORD},
    }
    for path, body in endpoints.items():
        answers = [post(server, path, body()) for _ in range(4)]
        assert all(answer.status_code != 429 for answer in answers[:3]), (path, [a.text for a in answers])
        assert_error(answers[3], 429, "rate_limited")
        assert_retry_after(answers[3], 1, 60)


def test_forwarded_for_from_an_untrusted_peer_does_not_dodge_the_limit(make_server):
    server = make_server(env={"RATE_LIMIT_PER_IP": "3/m"})
    answers = [requests.post(server.url("/api/auth/login"), json={"email": flows.new_email(), "password": "x" * 8},
                             headers={"X-Forwarded-For": f"203.0.113.{n}"}, timeout=30) for n in range(4)]
    assert [a.status_code for a in answers[:3]] == [401, 401, 401]
    assert_error(answers[3], 429, "rate_limited")


def test_an_ipv6_client_is_limited_by_its_slash_64(make_server):
    # One subscriber gets a whole /64: rotating addresses inside it must not
    # reset the count, while the next /64 is somebody else.
    server = make_server(env={"RATE_LIMIT_PER_IP": "3/m", "TRUSTED_PROXIES": "127.0.0.1"})

    def login_from(address: str):
        return requests.post(server.url("/api/auth/login"), json={"email": flows.new_email(), "password": "x" * 8},
                             headers={"X-Forwarded-For": address}, timeout=30)

    answers = [login_from(f"2001:db8:7:1:{n}::{n + 1}") for n in range(4)]
    assert [a.status_code for a in answers[:3]] == [401, 401, 401]
    assert_error(answers[3], 429, "rate_limited")
    assert login_from("2001:db8:7:2::1").status_code == 401
    # An IPv4 address is still counted on its own, also through a translator's
    # well-known prefix, which holds every IPv4 client in one /64.
    assert [login_from(f"198.51.100.{n}").status_code for n in range(4)] == [401] * 4
    assert [login_from(f"64:ff9b::192.0.2.{n}").status_code for n in range(4)] == [401] * 4


def test_zero_turns_the_ip_limit_off(make_server):
    server = make_server(env={"RATE_LIMIT_PER_IP": "0"})
    statuses = {flows.login(server, flows.new_email()).status_code for _ in range(40)}
    assert statuses == {401}


def test_the_default_ip_limit_is_30_a_minute(make_server):
    server = make_server()
    statuses = [flows.login(server, flows.new_email()).status_code for _ in range(31)]
    assert statuses[:30] == [401] * 30
    assert statuses[30] == 429
