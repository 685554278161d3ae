"""Issue 12, HTTP, configuration and operations: X-Forwarded-For over several
lines and CIDR proxies (item 5), local mail backends (12), /metrics behind a
token (13), the cookie CSRF rule (14)."""

from __future__ import annotations

import json
import stat
import time

import pytest
import requests

import flows
import harness
import ledger_flows as lf
import wire
from checks import assert_error, assert_wire_error

FOREIGN = "https://evil.example"
CONSOLE = "https://console.example"
METRICS_TOKEN = "metrics-token-of-this-test-0123"


def login_through_proxy(server, email: str, forwarded: list[str]) -> wire.RawResponse:
    """A login whose X-Forwarded-For comes on one line per entry of `forwarded`."""
    body = json.dumps({"email": email, "password": flows.PASSWORD}).encode()
    headers = [("Content-Type", "application/json")] + [("X-Forwarded-For", line) for line in forwarded]
    with wire.Connection(server.port) as conn:
        conn.send(wire.request("POST", "/api/auth/login", headers, body))
        return conn.read_response()


def session_ips(server, email: str) -> list[str]:
    return [row[0] for row in server.query("SELECT ip FROM sessions WHERE user_id = %s ORDER BY created_at",
                                           (flows.user_id(server, email),))]


# ---- item 5: X-Forwarded-For


def test_forwarded_for_on_two_lines_takes_the_proxys_line(make_server):
    # The client writes the first line, the trusted proxy appends its own:
    # reading only the first line let the client choose its address.
    server = make_server(env=lf.env(TRUSTED_PROXIES="127.0.0.1"))
    email = flows.register(server)
    answer = login_through_proxy(server, email, ["198.51.100.66", "203.0.113.9"])
    assert answer.status == 200, answer.body
    assert session_ips(server, email) == ["203.0.113.9"]


def test_forwarded_for_on_two_lines_cannot_dodge_the_ip_limit(make_server):
    server = make_server(env=lf.env(TRUSTED_PROXIES="127.0.0.1", RATE_LIMIT_PER_IP="2/m"))
    email = flows.register(server)
    statuses = [login_through_proxy(server, email, [f"198.51.100.{n}", "203.0.113.9"]).status for n in range(3)]
    assert statuses == [200, 200, 429]


@pytest.mark.parametrize("proxies, expected", [("127.0.0.0/8", "203.0.113.9"), ("10.0.0.0/8, fd00::/8", "127.0.0.1"),
                                               ("::ffff:127.0.0.1", "203.0.113.9")],
                         ids=["cidr-trusted", "cidr-not-trusted", "mapped-ipv4"])
def test_trusted_proxies_take_cidr_ranges(make_server, proxies, expected):
    server = make_server(env=lf.env(TRUSTED_PROXIES=proxies))
    email = flows.register(server)
    assert login_through_proxy(server, email, ["203.0.113.9"]).status == 200
    assert session_ips(server, email) == [expected]


# ---- item 12: console and file mail


def warnings_about_mail(server) -> list[dict]:
    return [line for line in server.lines() if line.get("level") == "warn" and "email_backend" in line]


def test_console_mail_on_a_public_host_warns_at_startup(make_server):
    server = make_server(env={"HOST": "0.0.0.0"})
    server.wait_for_line(lambda line: line.get("msg") == "listening")
    assert [(line["email_backend"], line["host"]) for line in warnings_about_mail(server)] == [("console", "0.0.0.0")]
    assert "EMAIL_BACKEND=smtp" in warnings_about_mail(server)[0]["msg"]


def test_console_mail_on_loopback_does_not_warn(make_server):
    server = make_server()
    server.wait_for_line(lambda line: line.get("msg") == "listening")
    assert warnings_about_mail(server) == []


def test_file_mail_is_private_to_the_server_user(make_server, tmp_path):
    folder = tmp_path / "mail"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)  # whatever the umask: the operator's folder lets others in
    server = make_server(env={"EMAIL_BACKEND": "file", "EMAIL_FILE_PATH": str(folder), "RATE_LIMIT_PER_IP": "0"})
    assert flows.signup(server, flows.new_email("file")).status_code == 201
    deadline = time.monotonic() + 10
    while not list(folder.glob("*.eml")):
        assert time.monotonic() < deadline, "no .eml file was written"
        time.sleep(0.05)
    written = list(folder.glob("*.eml"))[0]
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


# ---- item 13: /metrics


@pytest.fixture(scope="module")
def guarded(databases, tmp_path_factory):
    yield from lf.module_server(databases, tmp_path_factory, METRICS_TOKEN=METRICS_TOKEN,
                                CORS_ALLOWED_ORIGINS=CONSOLE)


@pytest.mark.parametrize("path", ["/metrics", "/metrics/", "/metrics%2F", "//metrics"])
@pytest.mark.parametrize("authorization, code", [(None, "missing_token"),
                                                 ("Bearer wrong-token-0123456789", "invalid_token"),
                                                 (f"Basic {METRICS_TOKEN}", "missing_token")],
                         ids=["none", "wrong", "not-bearer"])
def test_metrics_need_the_token_on_every_spelling_of_the_path(guarded, path, authorization, code):
    headers = {"Authorization": authorization} if authorization else {}
    with wire.Connection(guarded.port) as conn:
        conn.send(wire.request("GET", path, headers))
        answer = conn.read_response()
    assert_wire_error(answer, 401, code)
    assert answer.header("WWW-Authenticate") == "Bearer"
    assert b"http_requests_total" not in answer.body


def test_metrics_answer_with_the_token(guarded):
    answer = requests.get(guarded.url("/metrics"), headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10)
    assert answer.status_code == 200, answer.text
    assert "http_requests_total" in answer.text


def test_metrics_stay_open_without_a_token_setting(server):
    assert requests.get(server.url("/metrics"), timeout=10).status_code == 200


# ---- item 14: CSRF for cookie-authenticated writes


def cookie_of(who: lf.User) -> dict:
    return {"Cookie": f"token={who.headers['Authorization'][len('Bearer '):]}"}


@pytest.fixture
def pending_reward(guarded):
    boss = lf.admin(guarded)
    lf.config(guarded, boss, value=100)
    _, referral_id = lf.refer(guarded, lf.user(guarded))
    return boss, lf.reward_of(guarded, referral_id)["id"]


def cookie_credit(server, boss: lf.User, reward_id: str, source: dict) -> requests.Response:
    return requests.post(server.url(f"/api/admin/rewards/{reward_id}/credit"), headers={**cookie_of(boss), **source},
                         timeout=30)


def reward_status(server, reward_id: str) -> str:
    return server.query("SELECT status FROM rewards WHERE id = %s", (reward_id,))[0][0]


@pytest.mark.parametrize("source", [{}, {"Origin": FOREIGN}, {"Referer": FOREIGN + "/page"}, {"Origin": "null"},
                                    {"Origin": FOREIGN, "Referer": harness.PUBLIC_URL + "/admin/"}],
                         ids=["no-origin", "foreign-origin", "foreign-referer", "null-origin", "origin-wins"])
def test_cookie_credit_from_elsewhere_is_refused_and_changes_nothing(guarded, pending_reward, source):
    boss, reward_id = pending_reward
    answer = cookie_credit(guarded, boss, reward_id, source)
    assert_error(answer, 403, "csrf_rejected")
    assert reward_status(guarded, reward_id) == "PENDING"
    assert guarded.query("SELECT COUNT(*) FROM reward_events WHERE reward_id = %s", (reward_id,))[0][0] == 1


@pytest.mark.parametrize("source", [{"Origin": harness.PUBLIC_URL}, {"Referer": harness.PUBLIC_URL + "/admin/#x"},
                                    {"Origin": CONSOLE}, {"Origin": harness.PUBLIC_URL.upper() + ":443"}],
                         ids=["own-origin", "own-referer", "cors-origin", "same-origin-spelled-otherwise"])
def test_cookie_credit_from_this_site_works(guarded, pending_reward, source):
    boss, reward_id = pending_reward
    answer = cookie_credit(guarded, boss, reward_id, source)
    assert answer.status_code == 200, answer.text
    assert reward_status(guarded, reward_id) == "CREDITED"


def test_bearer_credit_needs_no_origin(guarded, pending_reward):
    boss, reward_id = pending_reward
    assert lf.credit(guarded, boss, reward_id).status_code == 200
    assert reward_status(guarded, reward_id) == "CREDITED"


def test_cookie_logout_from_a_foreign_origin_is_refused(guarded):
    who = lf.user(guarded)
    answer = requests.post(guarded.url("/api/auth/logout"), headers={**cookie_of(who), "Origin": FOREIGN}, timeout=30)
    assert_error(answer, 403, "csrf_rejected")
    assert "Set-Cookie" not in answer.headers
    assert len(session_ips(guarded, who.email)) == 1
    assert requests.get(guarded.url("/api/auth/sessions"), headers=who.headers, timeout=30).status_code == 200


def test_cookie_delete_of_a_session_from_nowhere_is_refused(guarded):
    who = lf.user(guarded)
    other = lf.login_from(guarded, who.email)
    session_id = requests.get(guarded.url("/api/auth/sessions"), headers=other, timeout=30).json()[0]["id"]
    answer = requests.delete(guarded.url(f"/api/auth/sessions/{session_id}"), headers=cookie_of(who), timeout=30)
    assert_error(answer, 403, "csrf_rejected")
    assert len(session_ips(guarded, who.email)) == 2


def test_cookie_reads_need_no_origin(guarded):
    who = lf.user(guarded)
    assert requests.get(guarded.url("/api/auth/sessions"), headers=cookie_of(who), timeout=30).status_code == 200


def test_bad_cookie_is_still_401_before_the_origin_rule(guarded):
    answer = requests.post(guarded.url("/api/auth/logout"), headers={"Cookie": "token=forged"}, timeout=30)
    assert_error(answer, 401, "invalid_token")
