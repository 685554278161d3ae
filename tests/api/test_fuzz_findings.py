"""Regressions for what request_fuzz found on PostgreSQL (docs/RELIABILITY.md,
Fuzzing): bytes that are not UTF-8 in an Idempotency-Key, in a cursor's id or
in a query value reached PostgreSQL as text, which refused them with an
error: a 500. On both engines they are now a 400 and nothing is stored.
"""

from __future__ import annotations

import base64
import json

import pytest
import requests

import ledger_flows as lf
import wire
from checks import assert_error


@pytest.fixture(scope="module")
def boss(server):
    return lf.admin(server)


def test_idempotency_key_that_is_not_utf8_is_refused_and_nothing_is_stored(server, boss):
    referrer, referee = lf.user(server), lf.user(server)
    body = json.dumps({"referral_code": lf.code_of(server, referrer)}).encode()
    headers = {**referee.headers, "Content-Type": "application/json", "Idempotency-Key": "key-\xff\xfe"}
    answer, _ = wire.exchange(server.port, wire.request("POST", "/api/referral/apply", headers, body))
    assert answer.status == 400
    assert answer.json() == {"error": "'Idempotency-Key' must be UTF-8 text.", "code": "validation_error"}
    assert server.query("SELECT COUNT(*) FROM idempotency_keys WHERE scope = %s", (referee.id,)) == [(0,)]


@pytest.mark.parametrize("path, as_admin", [
    ("/api/rewards/history", False),
    ("/api/referral/analytics/list", False),
    ("/api/admin/rewards", True),
    ("/api/admin/referrals/flagged", True),
])
def test_cursor_whose_id_is_not_utf8_text_is_a_400(server, boss, path, as_admin):
    who = boss if as_admin else lf.user(server)
    for raw_id in (b"\xff\xfe", b"a\x00b"):
        cursor = base64.urlsafe_b64encode(b"1700000000000|" + raw_id).rstrip(b"=").decode()
        assert_error(lf.get(server, path, who.headers, cursor=cursor), 400, "validation_error")


@pytest.mark.parametrize("query", ["user_id=%FF", "user_id=a%00b", "status=%C3%28", "%FF=1"])
def test_query_value_that_is_not_utf8_text_is_a_400(server, boss, query):
    answer = requests.get(server.url("/api/admin/rewards?" + query), headers=boss.headers, timeout=30)
    assert_error(answer, 400, "bad_request")
