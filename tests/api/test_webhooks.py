"""Webhooks (docs/API.md, Webhooks): endpoints, signing, delivery, retries,
the SSRF guard. A real receiver on loopback (support/webhook_receiver.py)
verifies every signature, so these servers allow http:// and private
addresses; the guard's own tests run with those flags off."""

from __future__ import annotations

import re
import time

import pytest
import requests

import flows
from support.unit_tests import run_engine_suite
from support.webhook_receiver import WebhookReceiver
from checks import assert_error, wait_until

LOOPBACK = {"WEBHOOK_ALLOW_HTTP": "true", "WEBHOOK_ALLOW_PRIVATE": "true",
            "WEBHOOK_RETRY_SCHEDULE": "200ms,200ms,200ms", "WEBHOOK_TIMEOUT": "2s"}
HOOKS = "/api/admin/webhooks"


@pytest.fixture
def receiver():
    hook = WebhookReceiver()
    hook.url = hook.start()
    yield hook
    hook.stop()


# Only the test events by default: the admin's own signup publishes user.verified.
def create(server, admin, url, events=("webhook.test",), **extra) -> dict:
    answer = requests.post(server.url(HOOKS), headers=admin, json={"url": url, "events": list(events), **extra},
                           timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()


def send_test(server, admin, endpoint_id) -> None:
    answer = requests.post(server.url(f"{HOOKS}/{endpoint_id}/test"), headers=admin, timeout=30)
    assert answer.status_code == 202, answer.text


def deliveries(server, admin, endpoint_id, **params) -> requests.Response:
    answer = requests.get(server.url(f"{HOOKS}/{endpoint_id}/deliveries"), headers=admin, params=params, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer


def test_endpoint_crud_secret_shown_once(make_server, receiver):
    server = make_server(env=LOOPBACK)
    _, admin = flows.new_admin(server)
    created = create(server, admin, receiver.url, events=["referral.created", "user.verified"],
                     description="crm")
    assert created["secret"].startswith("whsec_")
    assert created["events"] == ["referral.created", "user.verified"]
    assert created["enabled"] is True and created["disabled_reason"] is None
    listed = requests.get(server.url(HOOKS), headers=admin, timeout=30).json()
    assert [endpoint["id"] for endpoint in listed] == [created["id"]]
    assert "secret" not in listed[0]
    # Stored sealed, never in the clear.
    (sealed,) = server.query("SELECT secret_sealed FROM webhook_endpoints WHERE id = %s", (created["id"],))[0]
    assert created["secret"] not in sealed and created["secret"][6:] not in sealed

    patched = requests.patch(server.url(f"{HOOKS}/{created['id']}"), headers=admin,
                             json={"events": ["*"], "enabled": False, "description": "off"}, timeout=30)
    assert patched.status_code == 200, patched.text
    assert patched.json()["events"] == ["*"] and patched.json()["enabled"] is False

    send_test(server, admin, created["id"])
    assert requests.delete(server.url(f"{HOOKS}/{created['id']}"), headers=admin, timeout=30).status_code == 200
    assert server.query("SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = %s", (created["id"],))[0][0] == 0
    again = requests.delete(server.url(f"{HOOKS}/{created['id']}"), headers=admin, timeout=30)
    assert_error(again, 404, "webhook_not_found")


def test_bad_input_and_access(make_server, receiver):
    server = make_server(env=LOOPBACK)
    _, admin = flows.new_admin(server)
    _, user = flows.new_user(server)
    for body in ({"url": receiver.url, "events": []}, {"url": receiver.url, "events": ["user.deleted"]},
                 {"url": receiver.url}, {"url": receiver.url, "events": "user.verified"},
                 {"url": "ftp://example.com/", "events": ["*"]}, {"events": ["*"]},
                 {"url": receiver.url, "events": ["*"], "description": "x" * 501}):
        answer = requests.post(server.url(HOOKS), headers=admin, json=body, timeout=30)
        assert_error(answer, 400, "validation_error")
    anonymous = requests.post(server.url(HOOKS), json={"url": receiver.url, "events": ["*"]}, timeout=30)
    assert_error(anonymous, 401, "missing_token")
    member = requests.get(server.url(HOOKS), headers=user, timeout=30)
    assert_error(member, 403, "forbidden")
    assert server.query("SELECT COUNT(*) FROM webhook_endpoints")[0][0] == 0
    missing = requests.post(server.url(f"{HOOKS}/nope/test"), headers=admin, timeout=30)
    assert_error(missing, 404, "webhook_not_found")
    bad_status = requests.get(server.url(f"{HOOKS}/nope/deliveries"), headers=admin, params={"status": "sent"},
                              timeout=30)
    assert_error(bad_status, 400, "validation_error")


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "http://[::1]:9/hook", "http://169.254.169.254/latest",
                                 "http://localhost:9/hook", "http://[::ffff:10.0.0.1]/hook", "http://10.20.30.40/",
                                 "http://0.0.0.0:9/"])
def test_ssrf_guard_refuses_internal_addresses(make_server, url):
    server = make_server(env={"WEBHOOK_ALLOW_HTTP": "true"})
    _, admin = flows.new_admin(server)
    answer = requests.post(server.url(HOOKS), headers=admin, json={"url": url, "events": ["*"]}, timeout=30)
    assert_error(answer, 400, "webhook_url_forbidden")
    assert server.query("SELECT COUNT(*) FROM webhook_endpoints")[0][0] == 0


def test_https_required_unless_allowed(make_server, receiver):
    server = make_server(env={"WEBHOOK_ALLOW_PRIVATE": "true"})
    _, admin = flows.new_admin(server)
    answer = requests.post(server.url(HOOKS), headers=admin, json={"url": receiver.url, "events": ["*"]}, timeout=30)
    assert_error(answer, 400, "webhook_url_forbidden")


def test_test_event_is_signed_and_delivered(make_server, receiver):
    server = make_server(env=LOOPBACK)
    _, admin = flows.new_admin(server)
    created = create(server, admin, receiver.url, events=["referral.created"])  # test goes whatever the list
    receiver.secrets.append(created["secret"])
    send_test(server, admin, created["id"])
    (hit,) = receiver.wait_for(lambda hits: len(hits) == 1)
    assert hit.valid
    event = hit.event
    assert event["type"] == "webhook.test" and event["id"] == hit.webhook_id and event["id"].startswith("evt_")
    assert event["data"] == {"endpoint_id": created["id"]}
    assert event["created_at"].endswith("Z")
    delivered = wait_until(lambda: [d for d in deliveries(server, admin, created["id"]).json()
                                    if d["status"] == "delivered"])
    assert delivered[0]["event_id"] == hit.webhook_id
    assert delivered[0]["attempts"] == 1 and delivered[0]["last_status_code"] == 200
    assert delivered[0]["delivered_at"] and delivered[0]["next_attempt_at"] is None


def test_same_webhook_id_on_retries_after_500(make_server, receiver):
    server = make_server(env=LOOPBACK)
    _, admin = flows.new_admin(server)
    created = create(server, admin, receiver.url)
    receiver.secrets.append(created["secret"])
    receiver.script = [500, 500]
    send_test(server, admin, created["id"])
    hits = receiver.wait_for(lambda hits: len(hits) == 3)
    assert [hit.answered for hit in hits] == [500, 500, 200]
    assert len({hit.webhook_id for hit in hits}) == 1 and len({hit.body for hit in hits}) == 1
    assert all(hit.valid for hit in hits)
    (delivery,) = wait_until(lambda: deliveries(server, admin, created["id"], status="delivered").json())
    assert delivery["attempts"] == 3


def test_410_disables_the_endpoint_at_once(make_server, receiver):
    server = make_server(env=LOOPBACK)
    _, admin = flows.new_admin(server)
    created = create(server, admin, receiver.url)
    receiver.script = [410]
    send_test(server, admin, created["id"])
    receiver.wait_for(lambda hits: len(hits) == 1)
    endpoint = wait_until(lambda: [e for e in requests.get(server.url(HOOKS), headers=admin, timeout=30).json()
                                   if not e["enabled"]])[0]
    assert "410" in endpoint["disabled_reason"]
    (failed,) = deliveries(server, admin, created["id"], status="failed").json()
    assert failed["last_status_code"] == 410 and failed["attempts"] == 1
    send_test(server, admin, created["id"])  # kept, but not sent while disabled
    time.sleep(1.0)
    assert len(receiver.hits) == 1
    enabled = requests.patch(server.url(f"{HOOKS}/{created['id']}"), headers=admin, json={"enabled": True}, timeout=30)
    assert enabled.json()["disabled_reason"] is None
    receiver.wait_for(lambda hits: len(hits) == 2)


def test_rotation_signs_with_both_secrets(make_server, receiver):
    server = make_server(env=LOOPBACK)
    _, admin = flows.new_admin(server)
    created = create(server, admin, receiver.url)
    rotated = requests.post(server.url(f"{HOOKS}/{created['id']}/rotate-secret"), headers=admin, timeout=30)
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_") and new_secret != created["secret"]
    receiver.secrets += [created["secret"], new_secret]
    send_test(server, admin, created["id"])
    (hit,) = receiver.wait_for(lambda hits: len(hits) == 1)
    assert len(hit.signatures) == 2
    assert set(hit.signed_by) == {created["secret"], new_secret}
    # After the overlap only the new secret signs.
    server.query("UPDATE webhook_endpoints SET previous_secret_until = 1 WHERE id = %s", (created["id"],))
    send_test(server, admin, created["id"])
    hits = receiver.wait_for(lambda hits: len(hits) == 2)
    assert hits[1].signed_by == (new_secret,) and len(hits[1].signatures) == 1


def test_deliveries_list_filter_pages_and_manual_retry(make_server, receiver):
    server = make_server(env={**LOOPBACK, "WEBHOOK_RETRY_SCHEDULE": "100ms"})
    _, admin = flows.new_admin(server)
    created = create(server, admin, receiver.url)
    receiver.script = [500, 503]  # the first attempt and its one retry: then failed
    send_test(server, admin, created["id"])
    (failed,) = wait_until(lambda: deliveries(server, admin, created["id"], status="failed").json())
    assert failed["attempts"] == 2 and failed["last_status_code"] == 503 and failed["last_error"] == "HTTP 503"
    send_test(server, admin, created["id"])
    wait_until(lambda: deliveries(server, admin, created["id"], status="delivered").json())
    first_page = deliveries(server, admin, created["id"], limit=1)
    assert len(first_page.json()) == 1 and 'rel="next"' in first_page.headers["Link"]
    newest = first_page.json()[0]
    assert newest["status"] == "delivered"  # newest first
    second_page = requests.get(server.url(first_page.headers["Link"].split(";")[0].strip("<>")),
                               headers=admin, timeout=30).json()
    assert [d["id"] for d in second_page] == [failed["id"]]

    retried = requests.post(server.url(f"{HOOKS}/{created['id']}/deliveries/{failed['id']}/retry"), headers=admin,
                            timeout=30)
    assert retried.status_code == 202, retried.text
    wait_until(lambda: len(deliveries(server, admin, created["id"], status="delivered").json()) == 2)
    assert [h.webhook_id for h in receiver.hits].count(failed["event_id"]) == 3
    missing = requests.post(server.url(f"{HOOKS}/{created['id']}/deliveries/nope/retry"), headers=admin, timeout=30)
    assert_error(missing, 404, "delivery_not_found")


def test_hanging_endpoint_does_not_starve_others(make_server, receiver):
    server = make_server(env={**LOOPBACK, "WEBHOOK_TIMEOUT": "5s", "WEBHOOK_MAX_IN_FLIGHT": "2"})
    _, admin = flows.new_admin(server)
    hanging = WebhookReceiver()
    hanging.hang = 4
    try:
        slow = create(server, admin, hanging.start())
        fast = create(server, admin, receiver.url)
        for _ in range(6):
            send_test(server, admin, slow["id"])
        time.sleep(0.3)
        started = time.monotonic()
        for _ in range(5):
            send_test(server, admin, fast["id"])
        receiver.wait_for(lambda hits: len(hits) == 5, timeout=2)
        assert time.monotonic() - started < 2
    finally:
        hanging.stop()


def test_metrics_show_deliveries_and_queue(make_server, receiver):
    server = make_server(env=LOOPBACK)
    _, admin = flows.new_admin(server)
    created = create(server, admin, receiver.url)
    send_test(server, admin, created["id"])
    receiver.wait_for(lambda hits: len(hits) == 1)
    text = wait_until(lambda: (lambda t: 'webhook_deliveries_total{result="delivered"} 1' in t and t)(
        requests.get(server.url("/metrics"), timeout=30).text))
    assert "webhook_queue_depth 0" in text
    assert "webhook_oldest_pending_seconds 0" in text
    # The dispatcher's write rounds: at least the one that leased the test and the one that recorded its answer.
    rounds = float(re.search(r"^webhook_dispatcher_rounds_total (\S+)$", text, re.M).group(1))
    seconds = float(re.search(r"^webhook_dispatcher_round_seconds_total (\S+)$", text, re.M).group(1))
    assert rounds >= 2 and 0 < seconds < rounds * 5


def test_kill_9_with_deliveries_pending_loses_none(make_server, receiver):
    env = {**LOOPBACK, "WEBHOOK_TIMEOUT": "2s", "WEBHOOK_RETRY_SCHEDULE": "300ms,300ms,300ms,300ms,300ms,300ms"}
    server = make_server(env=env)
    _, admin = flows.new_admin(server)
    created = create(server, admin, receiver.url)
    receiver.status, receiver.hang = 503, 1.5  # in flight or failing when the kill comes
    for _ in range(8):
        send_test(server, admin, created["id"])
    time.sleep(0.5)
    server.kill()
    receiver.status, receiver.hang = 200, 0
    restarted = make_server(env=env, database_url=server.database_url)
    expected = {row[0] for row in restarted.query("SELECT event_id FROM webhook_deliveries")}
    assert len(expected) == 8
    # Leases last one attempt (WEBHOOK_TIMEOUT + 5 s): well within 20 s of the restart.
    receiver.wait_for(lambda hits: expected <= {h.webhook_id for h in hits if h.answered == 200}, timeout=20)
    wait_until(lambda: restarted.query(
        "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered'")[0][0] == 8)


def test_two_instances_deliver_each_event_once(make_server, receiver):
    first = make_server(env=LOOPBACK)
    second = make_server(env=LOOPBACK, database_url=first.database_url)
    _, admin = flows.new_admin(first)
    created = create(first, admin, receiver.url)
    for i in range(30):
        send_test(first if i % 2 else second, admin, created["id"])
    receiver.wait_for(lambda hits: len({h.webhook_id for h in hits}) == 30, timeout=20)
    time.sleep(1.0)
    ids = [h.webhook_id for h in receiver.hits]
    assert len(ids) == len(set(ids)) == 30, f"{len(ids) - len(set(ids))} duplicates"


def insert_event(server, event_id: str, event_type: str, data: str) -> None:
    server.query("INSERT INTO domain_events (id, type, aggregate_id, data_json, created_at) "
                 "VALUES (%s, %s, %s, %s, %s)", (event_id, event_type, "agg", data, 1764511200123))


def test_domain_events_fan_out_to_subscribed_enabled_endpoints(make_server, receiver):
    server = make_server(env=LOOPBACK)
    _, admin = flows.new_admin(server)
    referrals_only = create(server, admin, receiver.url + "/referrals", events=["referral.created"])
    everything = create(server, admin, receiver.url + "/all", events=["*"])
    disabled = create(server, admin, receiver.url + "/off", events=["*"])
    requests.patch(server.url(f"{HOOKS}/{disabled['id']}"), headers=admin, json={"enabled": False}, timeout=30)
    receiver.secrets += [referrals_only["secret"], everything["secret"]]
    insert_event(server, "evt_test-1", "referral.created", '{"id":"r1","status":"PENDING"}')
    insert_event(server, "evt_test-2", "user.verified", '{"id":"u1"}')
    # The admin's user.verified may come too (to "*"): only the inserted events are looked at.
    inserted = lambda hits: [hit for hit in hits if hit.webhook_id.startswith("evt_test-")]  # noqa: E731
    hits = inserted(receiver.wait_for(lambda hits: len(inserted(hits)) == 3))
    time.sleep(0.5)  # nothing more comes
    assert len(inserted(receiver.hits)) == 3 and all(hit.valid for hit in hits)
    by_id = sorted((hit.webhook_id, hit.signed_by) for hit in hits)
    assert by_id == sorted([("evt_test-1", (referrals_only["secret"],)), ("evt_test-1", (everything["secret"],)),
                            ("evt_test-2", (everything["secret"],))])
    first = next(hit for hit in hits if hit.webhook_id == "evt_test-1")
    assert first.event == {"id": "evt_test-1", "type": "referral.created", "created_at": "2025-11-30T14:00:00.123Z",
                           "data": {"id": "r1", "status": "PENDING"}}
    # Only the inserted events: the admin's user.verified may be fanned out before the PATCH disabled it.
    assert server.query("SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = %s AND event_id IN (%s, %s)",
                        (disabled["id"], "evt_test-1", "evt_test-2"))[0][0] == 0
    # The consumer's cursor moved in the fan-out's transaction: no event is fanned out twice.
    (last_seq,) = server.query("SELECT last_seq FROM event_cursors WHERE consumer = 'webhooks'")[0]
    assert last_seq == server.query("SELECT MAX(seq) FROM domain_events")[0][0]


def test_a_domain_events_delivery_stores_no_body_and_every_retry_sends_the_same_bytes(make_server, receiver):
    """The row keeps no copy of the body (migration 0022): a retry builds it
    again from the immutable domain_events row, byte for byte."""
    server = make_server(env=LOOPBACK)
    _, admin = flows.new_admin(server)
    created = create(server, admin, receiver.url, events=["referral.created"])
    receiver.secrets.append(created["secret"])
    receiver.script = [500, 503]
    insert_event(server, "evt_retried", "referral.created", '{"id":"r1","note":"caf\u00e9 \u2713"}')
    hits = receiver.wait_for(lambda hits: len(hits) == 3)
    assert [hit.answered for hit in hits] == [500, 503, 200] and all(hit.valid for hit in hits)
    assert len({hit.body for hit in hits}) == 1 and {hit.webhook_id for hit in hits} == {"evt_retried"}
    assert hits[0].event == {"id": "evt_retried", "type": "referral.created", "created_at": "2025-11-30T14:00:00.123Z",
                             "data": {"id": "r1", "note": "caf\u00e9 \u2713"}}
    (delivery,) = wait_until(lambda: deliveries(server, admin, created["id"], status="delivered").json())
    assert delivery["attempts"] == 3
    (stored,) = server.query("SELECT payload FROM webhook_deliveries WHERE event_id = 'evt_retried'")[0]
    assert stored is None
    # A test event has no domain_events row: its row keeps the body.
    send_test(server, admin, created["id"])
    receiver.wait_for(lambda hits: len(hits) == 4)
    (body,) = server.query("SELECT payload FROM webhook_deliveries WHERE event_type = 'webhook.test'")[0]
    assert body.encode() == receiver.hits[3].body


def test_a_delivery_whose_event_is_gone_is_refused_not_sent(make_server, receiver):
    """A row without a body whose domain_events row cannot be found (it is
    never deleted; this guards the code path) fails its attempt with a reason
    instead of sending an empty body."""
    server = make_server(env=LOOPBACK)
    _, admin = flows.new_admin(server)
    created = create(server, admin, receiver.url, events=["referral.created"])
    now = int(time.time() * 1000)
    server.query("INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, payload, status, attempts,"
                 " next_attempt_at, leased_until, created_at) VALUES ('d-orphan', %s, 'evt_gone', 'referral.created',"
                 " NULL, 'pending', 0, %s, 0, %s)", (created["id"], now, now))
    requests.post(server.url(f"{HOOKS}/{created['id']}/deliveries/d-orphan/retry"), headers=admin, timeout=30)
    (tried,) = wait_until(lambda: [d for d in deliveries(server, admin, created["id"]).json() if d["attempts"] >= 1])
    assert tried["last_error"] == "the event is missing from domain_events: no body to send"
    assert tried["last_status_code"] is None and receiver.hits == []


def test_new_events_start_at_once_within_each_endpoints_in_flight_bound(make_server, receiver):
    """The fan-out leases new rows into free slots as it inserts them: the
    fast endpoint gets every event without waiting for the hanging one, and
    the hanging one never has more than WEBHOOK_MAX_IN_FLIGHT attempts."""
    server = make_server(env={**LOOPBACK, "WEBHOOK_TIMEOUT": "3s", "WEBHOOK_MAX_IN_FLIGHT": "2"})
    _, admin = flows.new_admin(server)
    hanging = WebhookReceiver()
    hanging.hang = 2.5
    try:
        slow = create(server, admin, hanging.start(), events=["referral.created"])
        create(server, admin, receiver.url, events=["referral.created"])
        for n in range(5):
            insert_event(server, f"evt_bound-{n}", "referral.created", "{}")
        receiver.wait_for(lambda hits: len(hits) == 5, timeout=2)
        assert hanging.arrived == 2
        in_flight = server.query("SELECT COUNT(*) FROM webhook_deliveries WHERE endpoint_id = %s"
                                 " AND status = 'pending' AND leased_until > 0", (slow["id"],))[0][0]
        assert in_flight == 2
        hanging.wait_for(lambda hits: len(hits) == 5, timeout=10)
    finally:
        hanging.stop()


def test_endpoint_failing_for_disable_after_is_disabled(make_server, receiver):
    server = make_server(env={**LOOPBACK, "WEBHOOK_DISABLE_AFTER": "1s",
                              "WEBHOOK_RETRY_SCHEDULE": ",".join(["200ms"] * 20)})
    _, admin = flows.new_admin(server)
    created = create(server, admin, receiver.url)
    receiver.status = 500
    send_test(server, admin, created["id"])
    endpoint = wait_until(lambda: [e for e in requests.get(server.url(HOOKS), headers=admin, timeout=30).json()
                                   if not e["enabled"]], timeout=15)[0]
    assert "WEBHOOK_DISABLE_AFTER" in endpoint["disabled_reason"] and "HTTP 500" in endpoint["disabled_reason"]
    hits = len(receiver.hits)
    assert hits >= 3
    time.sleep(1.0)
    assert len(receiver.hits) == hits  # nothing more while disabled
    (pending,) = deliveries(server, admin, created["id"], status="pending").json()
    assert pending["attempts"] == hits and pending["last_error"] == "HTTP 500"


def test_url_is_checked_again_at_delivery_time(make_server, receiver):
    permissive = make_server(env=LOOPBACK)
    _, admin = flows.new_admin(permissive)
    created = create(permissive, admin, receiver.url)
    permissive.stop()
    strict = make_server(env={**LOOPBACK, "WEBHOOK_ALLOW_PRIVATE": "false"}, database_url=permissive.database_url)
    send_test(strict, admin, created["id"])  # the token outlives the restart (same database, same secret)
    (retrying,) = wait_until(lambda: [d for d in deliveries(strict, admin, created["id"]).json() if d["attempts"] >= 1])
    assert retrying["last_error"].startswith("url refused") and retrying["last_status_code"] is None
    assert receiver.hits == []


def api_key(server, admin, scopes) -> dict:
    answer = requests.post(server.url("/api/admin/api-keys"), headers=admin, json={"name": "crm", "scopes": scopes},
                           timeout=30)
    assert answer.status_code == 201, answer.text
    return {"X-Api-Key": answer.json()["key"]}


def test_an_api_key_with_webhooks_manage_manages_webhooks(make_server, receiver):
    server = make_server(env=LOOPBACK)
    _, admin = flows.new_admin(server)
    manager = api_key(server, admin, ["webhooks:manage"])
    created = create(server, manager, receiver.url)
    assert [e["id"] for e in requests.get(server.url(HOOKS), headers=manager, timeout=30).json()] == [created["id"]]
    send_test(server, manager, created["id"])
    receiver.wait_for(lambda hits: len(hits) == 1)
    other = api_key(server, admin, ["events:write"])
    refused = requests.get(server.url(HOOKS), headers=other, timeout=30)
    assert_error(refused, 403, "insufficient_scope")
    # The scope opens the webhook routes only, not the rest of /api/admin.
    elsewhere = requests.get(server.url("/api/admin/api-keys"), headers=manager, timeout=30)
    assert_error(elsewhere, 401, "missing_token")


def test_a_committed_apply_is_sent_and_a_refused_one_is_not(make_server, receiver):
    server = make_server(env=LOOPBACK)
    _, admin = flows.new_admin(server)
    flows.reward_config(server, admin)
    created = create(server, admin, receiver.url, events=["reward.created"])
    receiver.secrets.append(created["secret"])
    _, referrer = flows.new_user(server)
    code = flows.referral_code(server, referrer)
    refused = flows.apply_code(server, referrer, code)  # one's own code: refused, rolled back
    assert_error(refused, 400, "self_referral")
    time.sleep(1.0)
    assert receiver.hits == []
    _, referee = flows.new_user(server)
    assert flows.apply_code(server, referee, code).status_code in (200, 201)
    (hit,) = receiver.wait_for(lambda hits: len(hits) == 1)
    assert hit.valid and hit.event["type"] == "reward.created"
    (reward_id, status) = server.query("SELECT id, status FROM rewards")[0]
    assert hit.event["data"]["reward_id"] == reward_id and hit.event["data"]["status"] == status
    (event_id,) = server.query("SELECT id FROM domain_events WHERE type = 'reward.created'")[0]
    assert hit.webhook_id == event_id
    time.sleep(0.5)
    assert len(receiver.hits) == 1


def test_webhook_store_tests_pass_on_this_engine(backend, databases):
    """tests/unit/webhook_store_test.cpp: the dispatcher's bulk statements
    (rows inserted already leased, answers recorded only under their own
    lease), against a fresh database of this engine."""
    run_engine_suite("WebhookStore", backend, databases)
