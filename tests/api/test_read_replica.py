"""DATABASE_READ_URL: analytics reads go to it, everything else stays on the
primary (issue 8's first step; the streaming-replica cluster test comes later)."""

from __future__ import annotations

import requests

import flows
import harness


def summary(server, headers) -> requests.Response:
    return requests.get(server.url("/api/referral/analytics/summary"), headers=headers, timeout=30)


def test_analytics_read_from_the_read_url(make_server, postgresql_only):
    primary = make_server(env={"RATE_LIMIT_PER_IP": "0"})
    email, headers = flows.new_user(primary)
    primary.stop()
    # The same database as a "replica": analytics answer from it.
    same = make_server(env={"DATABASE_READ_URL": primary.database_url}, database_url=primary.database_url)
    assert summary(same, headers).status_code == 200
    same.stop()
    # A read URL nobody answers: analytics fail, the primary paths do not.
    dead = f"postgresql://postgres@127.0.0.1:{harness.free_port()}/nowhere"
    split = make_server(env={"DATABASE_READ_URL": dead}, database_url=primary.database_url)
    answer = summary(split, headers)
    assert answer.status_code == 503 and answer.json()["code"] == "database_unavailable", answer.text
    assert requests.post(split.url("/api/auth/verify-session"), headers=headers, timeout=30).status_code == 200
    assert requests.post(split.url("/api/referral/generate"), headers=headers, timeout=30).status_code == 201
