#!/usr/bin/env python3
"""Writes the seed corpus of request_fuzz (fuzz/corpus/request): for every
endpoint of docs/API.md, the original's aliases included, a valid request and
borderline ones (missing, mistyped and out-of-range fields, bodies that are
not JSON objects, wrong media types, bad tokens), plus HTTP shapes the
parser must refuse. Placeholders ({{USER}}, {{USER_ID}}, ...) are replaced
by the harness with the seeded accounts' values (see request_fuzz.cpp); the
Content-Length of a body counts them at their replaced length.

Run after adding an endpoint:  fuzz/request_seeds.py  (rewrites the seeds
named here; corpus files the fuzzer added are left alone).
"""
import base64
import json
import pathlib
import re

OUT = pathlib.Path(__file__).resolve().parent / "corpus" / "request"
# Replaced lengths: ids are UUIDv7 strings, codes "REF-" + 8 characters.
PLACEHOLDER_LENGTHS = {"{{USER_ID}}": 36, "{{REWARD_ID}}": 36, "{{CONFIG_ID}}": 36, "{{REFERRAL_CODE}}": 12}
UNKNOWN_ID = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"
# HS256 header with alg none, and a token signed with another key.
NONE_TOKEN = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4Iiwic2lkIjoieCJ9."
FORGED_TOKEN = ("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4Iiwic2lkIjoieCIsImV4cCI6NDEwMjQ0NDgwMH0."
                "c2lnbmF0dXJlLW1hZGUtd2l0aC1hbm90aGVyLWtleQ")

# A cursor whose id is not UTF-8 (PostgreSQL refused it: a 500 once).
NOT_UTF8_CURSOR = base64.urlsafe_b64encode(b"1700000000000|\xff\xfe").rstrip(b"=").decode()


def replaced_length(body):
    length = len(body.encode())
    for name, size in PLACEHOLDER_LENGTHS.items():
        length += body.count(name) * (size - len(name))
    return length


def request(method, target, token=None, body=None, headers=()):
    lines = [f"{method} {target} HTTP/1.1", "Host: localhost"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    lines += list(headers)
    text = body if isinstance(body, str) or body is None else json.dumps(body)
    if text is not None:
        if not any(h.lower().startswith("content-type:") for h in headers):
            lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {replaced_length(text)}")
    return "\r\n".join(lines) + "\r\n\r\n" + (text or "")


USER, ADMIN = "{{USER}}", "{{ADMIN}}"


def account_seeds():
    signup = {"name": "Fuzz New", "email": "new@fuzz.test", "password": "long enough password"}
    yield "signup-valid", request("POST", "/api/auth/signup", body=signup)
    yield "signup-with-code", request("POST", "/api/auth/signup",
                                      body={**signup, "email": "ref@fuzz.test", "referral_code": "{{REFERRAL_CODE}}"})
    yield "signup-unknown-code", request("POST", "/api/auth/signup", body={**signup, "referral_code": "REF-ZZZZZZZZ"})
    yield "signup-verified-exists", request("POST", "/api/auth/signup", body={**signup, "email": "user@fuzz.test"})
    yield "signup-bad-email", request("POST", "/api/auth/signup", body={**signup, "email": "not-an-address"})
    yield "signup-short-password", request("POST", "/api/auth/signup", body={**signup, "password": "short"})
    yield "signup-password-is-email", request("POST", "/api/auth/signup",
                                              body={**signup, "password": "new@fuzz.test"})
    yield "signup-long-name", request("POST", "/api/auth/signup", body={**signup, "name": "n" * 101})
    yield "signup-blank-name", request("POST", "/api/auth/signup", body={**signup, "name": "   "})
    yield "signup-unicode", request("POST", "/api/auth/signup",
                                    body={**signup, "name": "Zoë \u00e9\u4e2d\U0001F600", "email": " MiXeD+Tag@Gmail.COM "})
    yield "signup-number-fields", request("POST", "/api/auth/signup", body={"name": 1, "email": [], "password": None})
    yield "signup-missing-fields", request("POST", "/api/auth/signup", body={})
    yield "signup-array-body", request("POST", "/api/auth/signup", body="[1,2,3]")
    yield "signup-not-json", request("POST", "/api/auth/signup", body="{\"name\": ")
    yield "signup-nul-bytes", request("POST", "/api/auth/signup", body='{"name": "a\\u0000b", "email": "x\\u0000@y.z"}')
    yield "signup-deep-json", request("POST", "/api/auth/signup", body="[" * 200 + "]" * 200)
    yield "signup-text-plain", request("POST", "/api/auth/signup", body="name=x",
                                       headers=["Content-Type: text/plain"])
    yield "signup-sql-looking", request("POST", "/api/auth/signup",
                                        body={**signup, "name": "Robert'); DROP TABLE users;--"})
    yield "alias-signup", request("POST", "/signup", body={**signup, "email": "alias@fuzz.test"})
    yield "verify-otp-wrong", request("POST", "/api/auth/verify-otp", body={"email": "new@fuzz.test", "otp": "000000"})
    yield "verify-otp-malformed", request("POST", "/api/auth/verify-otp", body={"email": "new@fuzz.test", "otp": "12ab"})
    yield "verify-otp-verified", request("POST", "/api/auth/verify-otp", body={"email": "user@fuzz.test", "otp": "123456"})
    yield "alias-verify-otp", request("POST", "/verify-otp", body={"email": "nobody@fuzz.test", "otp": "123456"})
    yield "resend-otp", request("POST", "/api/auth/resend-otp", body={"email": "new@fuzz.test"})
    yield "resend-otp-bad-email", request("POST", "/api/auth/resend-otp", body={"email": 42})
    login = {"email": "user@fuzz.test", "password": "fuzzing-password-1"}
    yield "login-valid", request("POST", "/api/auth/login", body=login)
    yield "login-wrong-password", request("POST", "/api/auth/login", body={**login, "password": "wrong password"})
    yield "login-unknown", request("POST", "/api/auth/login", body={**login, "email": "nobody@fuzz.test"})
    yield "login-unverified", request("POST", "/api/auth/login",
                                      body={"email": "new@fuzz.test", "password": "long enough password"})
    yield "alias-login", request("POST", "/login", body=login)
    yield "verify-session", request("POST", "/api/auth/verify-session", USER)
    yield "verify-session-cookie", request("POST", "/api/auth/verify-session", headers=["Cookie: a=b; token={{USER}}"])
    yield "verify-session-none", request("POST", "/api/auth/verify-session")
    yield "verify-session-alg-none", request("POST", "/api/auth/verify-session", NONE_TOKEN)
    yield "verify-session-forged", request("POST", "/api/auth/verify-session", FORGED_TOKEN)
    yield "verify-session-garbage", request("POST", "/api/auth/verify-session", "a.b.c")
    yield "alias-verify-session", request("POST", "/verify-session", ADMIN)
    yield "logout", request("POST", "/api/auth/logout", USER)
    yield "alias-logout", request("POST", "/logout", USER)
    yield "logout-all", request("POST", "/api/auth/logout-all", USER)
    yield "sessions", request("GET", "/api/auth/sessions", USER)
    yield "sessions-delete-unknown", request("DELETE", f"/api/auth/sessions/{UNKNOWN_ID}", USER)
    yield "sessions-delete-odd-id", request("DELETE", "/api/auth/sessions/%2e%2e%2F%00", USER)
    yield "password-forgot", request("POST", "/api/auth/password/forgot", body={"email": "user@fuzz.test"})
    yield "password-forgot-unknown", request("POST", "/api/auth/password/forgot", body={"email": "no@fuzz.test"})
    reset = {"email": "user@fuzz.test", "otp": "123456", "new_password": "another long password"}
    yield "password-reset-wrong-otp", request("POST", "/api/auth/password/reset", body=reset)
    yield "password-reset-short", request("POST", "/api/auth/password/reset", body={**reset, "new_password": "x"})


def referral_seeds():
    yield "generate", request("POST", "/api/referral/generate", USER)
    yield "generate-admin", request("POST", "/api/referral/generate", ADMIN)
    yield "generate-no-token", request("POST", "/api/referral/generate")
    yield "alias-generate", request("POST", "/api/referrals/generate", USER)
    code = {"referral_code": "{{REFERRAL_CODE}}"}
    yield "apply-valid", request("POST", "/api/referral/apply", ADMIN, code,
                                 headers=["Idempotency-Key: fuzz-apply-1"])
    yield "apply-own-code", request("POST", "/api/referral/apply", USER, code)
    yield "apply-spaces-lowercase", request("POST", "/api/referral/apply", ADMIN,
                                            body='{"referral_code": "  {{REFERRAL_CODE}}  "}')
    yield "apply-unknown", request("POST", "/api/referral/apply", USER, {"referral_code": "REF-ZZZZZZZZ"})
    yield "apply-number", request("POST", "/api/referral/apply", USER, {"referral_code": 12345})
    yield "apply-missing", request("POST", "/api/referral/apply", USER, {})
    yield "apply-key-not-utf8", request("POST", "/api/referral/apply", USER, code,
                                        headers=["Idempotency-Key: key-\udcff\udcfe"])
    yield "apply-long-key", request("POST", "/api/referral/apply", USER, code, headers=["Idempotency-Key: " + "k" * 300])
    yield "alias-apply", request("POST", "/api/referrals/apply", USER, code)
    for alias in ("referral", "referrals"):
        prefix = f"/api/{alias}/analytics"
        tag = "" if alias == "referral" else "alias-"
        yield f"{tag}summary", request("GET", f"{prefix}/summary", USER)
        yield f"{tag}list", request("GET", f"{prefix}/list?limit=1", USER)
        yield f"{tag}timeline", request("GET", f"{prefix}/timeline?from=2026-01-01&to=2026-12-31&tz=%2B05:30", USER)
    yield "list-bad-cursor", request("GET", "/api/referral/analytics/list?cursor=not-a-cursor&limit=500", USER)
    yield "list-cursor-not-utf8", request("GET", f"/api/referral/analytics/list?cursor={NOT_UTF8_CURSOR}", USER)
    yield "list-bad-limit", request("GET", "/api/referral/analytics/list?limit=-1", USER)
    yield "timeline-zone", request("GET", "/api/referral/analytics/timeline?tz=Europe/Paris", USER)
    yield "timeline-reversed", request("GET", "/api/referral/analytics/timeline?from=2026-12-31&to=2020-01-01", USER)
    yield "timeline-bad", request("GET", "/api/referral/analytics/timeline?from=2026-02-30&tz=Mars/Base", USER)


def reward_seeds():
    yield "history", request("GET", "/api/rewards/history?status=PENDING&limit=2", USER)
    yield "history-bad-status", request("GET", "/api/rewards/history?status=nope", USER)
    yield "history-cursor", request("GET", "/api/rewards/history?cursor=MTcwMDAwMDAwMDAwMHxhYmM", USER)
    yield "alias-history", request("GET", "/api/referrals/rewards/history", USER)
    yield "balance", request("GET", "/api/rewards/balance", USER)
    config = {"reward_type": "FIRST_ORDER", "reward_value": 500, "reward_unit": "CASH",
              "beneficiary": "REFEREE", "auto_credit": True}
    yield "config-create", request("POST", "/api/admin/reward-config", ADMIN, config)
    yield "alias-config-create", request("POST", "/api/admin/reward-config/create", ADMIN,
                                         {**config, "reward_type": "SIGNUP", "beneficiary": "REFERRER"})
    yield "config-zero", request("POST", "/api/admin/reward-config", ADMIN, {**config, "reward_value": 0})
    yield "config-fraction", request("POST", "/api/admin/reward-config", ADMIN, {**config, "reward_value": 1.5})
    yield "config-huge", request("POST", "/api/admin/reward-config", ADMIN,
                                 body='{"reward_type": "SIGNUP", "reward_value": 1e300, "reward_unit": "POINTS"}')
    yield "config-int-overflow", request("POST", "/api/admin/reward-config", ADMIN,
                                         body='{"reward_type": "SIGNUP", "reward_value": 9223372036854775808, '
                                              '"reward_unit": "POINTS"}')
    yield "config-bad-enums", request("POST", "/api/admin/reward-config", ADMIN,
                                      {**config, "reward_unit": "GOLD", "beneficiary": "NOBODY"})
    yield "config-auto-credit-string", request("POST", "/api/admin/reward-config", ADMIN, {**config, "auto_credit": "yes"})
    yield "config-as-user", request("POST", "/api/admin/reward-config", USER, config)
    yield "config-list", request("GET", "/api/admin/reward-config", ADMIN)
    yield "config-deactivate", request("POST", "/api/admin/reward-config/{{CONFIG_ID}}/deactivate", ADMIN)
    yield "config-deactivate-unknown", request("POST", f"/api/admin/reward-config/{UNKNOWN_ID}/deactivate", ADMIN)
    yield "rewards-list", request("GET", "/api/admin/rewards?status=PENDING&user_id={{USER_ID}}&limit=1", ADMIN)
    yield "rewards-list-not-utf8", request("GET", "/api/admin/rewards?user_id=%FF&status=%C3%28", ADMIN)
    yield "rewards-list-bad", request("GET", "/api/admin/rewards?status=x&limit=abc", ADMIN)
    yield "credit", request("POST", "/api/admin/rewards/{{REWARD_ID}}/credit", ADMIN,
                            headers=["Idempotency-Key: fuzz-credit-1"])
    yield "credit-unknown", request("POST", f"/api/admin/rewards/{UNKNOWN_ID}/credit", ADMIN)
    yield "revoke", request("POST", "/api/admin/rewards/{{REWARD_ID}}/revoke", ADMIN, {"reason": "fraud"})
    yield "revoke-no-reason", request("POST", "/api/admin/rewards/{{REWARD_ID}}/revoke", ADMIN, {"reason": ""})
    yield "reward-history", request("GET", "/api/admin/rewards/{{REWARD_ID}}/history", ADMIN)
    yield "reward-history-unknown", request("GET", f"/api/admin/rewards/{UNKNOWN_ID}/history", ADMIN)
    event = {"type": "FIRST_ORDER", "user_id": "{{USER_ID}}", "external_id": "order-1"}
    yield "event", request("POST", "/api/admin/events", ADMIN, event, headers=["Idempotency-Key: fuzz-event-1"])
    yield "event-by-email", request("POST", "/api/admin/events", ADMIN,
                                    {"type": "FIRST_ORDER", "email": "referee@fuzz.test", "external_id": "order-2"})
    yield "event-bad", request("POST", "/api/admin/events", ADMIN, {"type": "REFUND", "external_id": ""})
    yield "top", request("GET", "/api/admin/referral/top?limit=5", ADMIN)
    yield "top-out-of-range", request("GET", "/api/admin/referral/top?limit=100000", ADMIN)
    yield "alias-top", request("GET", "/api/admin/referrals/top", ADMIN)
    yield "flagged", request("GET", "/api/admin/referrals/flagged", ADMIN)
    yield "stats", request("GET", "/api/admin/stats", ADMIN)
    yield "stats-as-user", request("GET", "/api/admin/stats", USER)


def http_seeds():
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
        yield "ops" + path.replace("/", "-").replace(".", "-"), request("GET", path)
    yield "trailing-slash", request("GET", "/api/rewards/balance/", USER)
    yield "absolute-form", request("GET", "http://localhost/healthz?x=1")
    yield "bad-target", "GET ftp://x/healthz HTTP/1.1\r\nHost: x\r\n\r\n"
    yield "method-not-allowed", request("DELETE", "/api/auth/login")
    yield "unknown-method", request("BREW", "/healthz")
    yield "not-found", request("GET", "/api/nothing/here")
    yield "preflight", request("OPTIONS", "/api/auth/login", headers=[
        "Origin: https://app.example", "Access-Control-Request-Method: POST"])
    yield "cors-other-origin", request("GET", "/healthz", headers=["Origin: https://evil.example"])
    yield "forwarded-for", request("GET", "/healthz", headers=["X-Forwarded-For: 10.0.0.1, 127.0.0.1",
                                                                 "X-Request-Id: fuzz-request-1"])
    yield "http10", "GET /healthz HTTP/1.0\r\n\r\n"
    yield "chunked", ("POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n5\r\n{\"a\":\r\n2\r\n1}\r\n0\r\n\r\n")
    yield "smuggling-cl-te", ("POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n")
    yield "smuggling-double-cl", ("POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                                  "Content-Length: 7\r\n\r\n{}")
    yield "folded-header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n"
    yield "no-host", "GET /healthz HTTP/1.1\r\n\r\n"
    yield "two-hosts", "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"
    yield "te-not-chunked-last", ("POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                  "Transfer-Encoding: chunked, gzip\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
    yield "path-invalid-utf8", request("GET", "/api/admin/rewards/%C3%28/history", ADMIN)
    yield "body-limit", "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n{}"
    yield "truncated-body", "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n{}"
    yield "garbage", "\x00\xff\r\n\r\nGET"
    yield "pipelined", (request("POST", "/api/referral/generate", USER) + request("GET", "/api/rewards/balance", USER)
                        + request("POST", "/api/auth/logout", USER) + request("GET", "/api/auth/sessions", USER))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    count = 0
    for group in (account_seeds, referral_seeds, reward_seeds, http_seeds):
        for name, data in group():
            assert re.fullmatch(r"[a-z0-9-]+", name), name
            (OUT / name).write_bytes(data.encode("utf-8", "surrogateescape"))
            count += 1
    print(f"wrote {count} seeds to {OUT}")


if __name__ == "__main__":
    main()
