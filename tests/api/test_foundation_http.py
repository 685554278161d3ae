"""The conventions every route shares: errors, methods, trailing slashes,
request ids, security headers, CORS, media types, the access log."""

from __future__ import annotations

import re

import pytest
import requests

import flows
import ledger_flows as lf
import wire
from checks import JSON_TYPE, assert_error, assert_wire_error


def test_unknown_route_is_404_not_found(server):
    assert_error(requests.get(server.url("/no/such/route"), timeout=10), 404, "not_found")


def test_wrong_method_is_405_with_allow(server):
    response = requests.post(server.url("/healthz"), timeout=10)
    assert_error(response, 405, "method_not_allowed")
    allowed = {method.strip() for method in response.headers["Allow"].split(",")}
    assert "GET" in allowed and "POST" not in allowed


def test_trailing_slash_is_accepted(server):
    response = requests.get(server.url("/healthz/"), timeout=10)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_query_string_does_not_change_the_route(server):
    assert requests.get(server.url("/healthz?x=1"), timeout=10).status_code == 200


def test_sane_request_id_is_echoed(server):
    response = requests.get(server.url("/healthz"), headers={"X-Request-Id": "abc-123_x.y:z"}, timeout=10)
    assert response.headers["X-Request-Id"] == "abc-123_x.y:z"


@pytest.mark.parametrize("incoming", [None, "", "has spaces", "x" * 500, "<script>", "a\tb"])
def test_missing_or_insane_request_id_is_replaced(server, incoming):
    headers = {} if incoming is None else {"X-Request-Id": incoming}
    response = requests.get(server.url("/healthz"), headers=headers, timeout=10)
    generated = response.headers.get("X-Request-Id", "")
    assert generated and generated != incoming
    assert re.fullmatch(r"[A-Za-z0-9._:-]{8,128}", generated), generated


def test_generated_request_ids_differ(server):
    ids = {requests.get(server.url("/healthz"), timeout=10).headers["X-Request-Id"] for _ in range(5)}
    assert len(ids) == 5


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/no/such/route"])
def test_security_and_cache_headers(server, path):
    response = requests.get(server.url(path), timeout=10)
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Cache-Control") == "no-store"
    assert response.headers.get("Content-Type") == JSON_TYPE


def test_access_log_has_one_json_line_per_request(server):
    requests.get(server.url("/healthz"), headers={"X-Request-Id": "access-log-probe-1"}, timeout=10)
    line = server.wait_for_line(lambda entry: entry.get("request_id") == "access-log-probe-1")
    assert line["method"] == "GET"
    assert line["route"] == "/healthz"
    assert line["status"] == 200
    assert line["answered_on"] == "io"  # no lane: /healthz reads nothing
    assert isinstance(line.get("duration_ms"), (int, float)) and line["duration_ms"] >= 0
    matching = [entry for entry in server.lines() if entry.get("request_id") == "access-log-probe-1"]
    assert len(matching) == 1


def test_access_log_names_where_each_request_was_answered(server):
    who = lf.user(server)
    login = {"email": who.email, "password": flows.PASSWORD}
    calls = {
        "answered-by-the-cpu-lane": lambda h: requests.post(server.url("/api/auth/login"), json=login, headers=h),
        "answered-by-the-write-lane": lambda h: requests.post(server.url("/api/referral/generate"),
                                                              headers={**who.headers, **h}),
        "answered-by-the-db-lane": lambda h: requests.get(server.url("/api/referral/analytics/timeline"),
                                                          headers={**who.headers, **h}),
        "answered-on-the-io-thread": lambda h: requests.get(server.url("/no/such/route"), headers=h),
    }
    statuses = [call({"X-Request-Id": request_id}).status_code for request_id, call in calls.items()]
    assert statuses == [200, 201, 200, 404]
    lanes = [server.wait_for_line(lambda entry, r=request_id: entry.get("request_id") == r)["answered_on"]
             for request_id in calls]
    # The last matched no route: answered before any lane.
    assert lanes == ["cpu", "write", "db", "io"], lanes


@pytest.mark.parametrize("method,path", [("GET", "/api/referral/analytics/timeline"),  # db lane
                                         ("POST", "/api/referral/generate")])  # write lane
@pytest.mark.parametrize("name,credential,code", [
    ("none", {}, "missing_token"),
    ("forged-bearer", {"Authorization": "Bearer forged.token.here"}, "invalid_token"),
    ("forged-cookie", {"Cookie": "token=forged"}, "invalid_token"),
])
def test_a_bad_token_is_refused_without_a_lane(server, method, path, name, credential, code):
    # A flood of bad tokens must not take lane threads from real requests.
    request_id = f"bad-token-{method}-{name}"
    answer = requests.request(method, server.url(path), headers={**credential, "X-Request-Id": request_id},
                              timeout=10)
    assert_error(answer, 401, code)
    line = server.wait_for_line(lambda entry: entry.get("request_id") == request_id)
    assert line["answered_on"] == "io", line


def test_unknown_method_does_not_become_a_metric_label(server):
    # Like unknown paths: a client must not be able to mint label values.
    with wire.Connection(server.port) as conn:
        conn.send(wire.request("XYZZYMETHOD", "/healthz"))
        assert_wire_error(conn.read_response(), 405, "method_not_allowed")
    assert "XYZZYMETHOD" not in requests.get(server.url("/metrics"), timeout=10).text


# ---- CORS (CORS_ALLOWED_ORIGINS: credentials allowed for those)

ALLOWED = "https://app.example"
CORS_HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Methods",
                "Access-Control-Allow-Headers", "Access-Control-Allow-Credentials")


@pytest.fixture(scope="module")
def cors_server(databases, tmp_path_factory):
    import harness

    pool = harness.ServerPool(databases, tmp_path_factory.mktemp("cors"))
    try:
        yield pool.start(env={"CORS_ALLOWED_ORIGINS": f"{ALLOWED}, https://other-app.example"})
    finally:
        pool.close()


def preflight(server, origin: str):
    return requests.options(server.url("/api/auth/login"), timeout=10, headers={
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, authorization",
    })


def test_preflight_from_an_allowed_origin(cors_server):
    response = preflight(cors_server, ALLOWED)
    assert response.status_code == 204
    assert response.headers.get("Access-Control-Allow-Origin") == ALLOWED
    assert response.headers.get("Access-Control-Allow-Credentials") == "true"
    methods = {m.strip() for m in response.headers.get("Access-Control-Allow-Methods", "").split(",")}
    assert "POST" in methods
    allowed_headers = response.headers.get("Access-Control-Allow-Headers", "").lower()
    assert "content-type" in allowed_headers and "authorization" in allowed_headers
    assert "origin" in response.headers.get("Vary", "").lower()


def test_preflight_from_another_origin_gets_no_cors_headers(cors_server):
    response = preflight(cors_server, "https://evil.example")
    assert response.status_code == 204  # answered as any preflight, but with nothing that allows the origin
    for name in CORS_HEADERS:
        assert name not in response.headers, name


def test_simple_request_from_an_allowed_origin(cors_server):
    response = requests.get(cors_server.url("/healthz"), headers={"Origin": ALLOWED}, timeout=10)
    assert response.status_code == 200
    assert response.headers.get("Access-Control-Allow-Origin") == ALLOWED
    assert response.headers.get("Access-Control-Allow-Credentials") == "true"


def test_second_listed_origin_is_allowed_too(cors_server):
    response = requests.get(cors_server.url("/healthz"), headers={"Origin": "https://other-app.example"},
                            timeout=10)
    assert response.headers.get("Access-Control-Allow-Origin") == "https://other-app.example"


@pytest.mark.parametrize("origin", ["https://evil.example", "https://app.example.evil.example", "null"])
def test_simple_request_from_another_origin(cors_server, origin):
    response = requests.get(cors_server.url("/healthz"), headers={"Origin": origin}, timeout=10)
    assert response.status_code == 200
    for name in CORS_HEADERS:
        assert name not in response.headers, name


def test_no_cors_headers_when_no_origin_is_configured(server):
    response = requests.get(server.url("/healthz"), headers={"Origin": ALLOWED}, timeout=10)
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "Access-Control-Allow-Origin" not in preflight(server, ALLOWED).headers


# ---- media type and JSON parsing (415, invalid_json)

LOGIN = "/api/auth/login"


def test_non_json_body_is_415(server):
    response = requests.post(server.url(LOGIN), data=b'{"email": "a@b.example", "password": "x"}',
                             headers={"Content-Type": "text/plain"}, timeout=10)
    assert_error(response, 415, "unsupported_media_type")


def test_form_body_is_415(server):
    response = requests.post(server.url(LOGIN), data={"email": "a@b.example", "password": "x"}, timeout=10)
    assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("body", [b"[1,2]", b"{bad", b'"just a string"', b"null", b"{\"a\": 1} trailing"])
@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_body_that_is_not_a_json_object_is_invalid_json(server, body, content_type):
    response = requests.post(server.url(LOGIN), data=body, headers={"Content-Type": content_type}, timeout=10)
    assert_error(response, 400, "invalid_json")
