"""Migration 0022 (a delivery of a domain event stores no body) on a database
made by the migrations before it: a pending delivery keeps the exact body it
had, and goes out with it; /metrics no longer has webhook_deliveries_pending
to read and still counts and ages the queue."""

from __future__ import annotations

import requests

import flows
import harness
from support.webhook_receiver import WebhookReceiver
from test_reward_rules_upgrade import migrate

BODIES_MIGRATION = 22
NOW = 1_700_000_000_000
BODY = '{"id":"evt_old-1","type":"referral.created","created_at":"2023-11-14T22:13:20.000Z","data":{"id":"r-old"}}'


def seed(database_url: str, receiver_url: str) -> None:
    # The sealed secret is not this server's: the test rotates it through the API.
    for statement, values in (
            ("INSERT INTO webhook_endpoints (id, url, events, description, enabled, secret_sealed, created_at)"
             " VALUES ('ep-old', %s, '*', '', 1, 'sealed-elsewhere', %s)", (receiver_url, NOW)),
            ("INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, payload, status, attempts,"
             " next_attempt_at, leased_until, created_at) VALUES ('d-old', 'ep-old', 'evt_old-1', 'referral.created',"
             " %s, 'pending', 0, %s, 0, %s)", (BODY, NOW, NOW))):
        harness.query(database_url, statement, values)


def test_a_pending_delivery_keeps_its_body_across_the_upgrade(backend, databases, make_server):
    receiver = WebhookReceiver()
    url = databases.new_url()
    try:
        migrate(url, below=BODIES_MIGRATION)
        seed(url, receiver.start())
        server = make_server(env={"WEBHOOK_ALLOW_HTTP": "true", "WEBHOOK_ALLOW_PRIVATE": "true",
                                  "WEBHOOK_RETRY_SCHEDULE": "200ms,200ms,200ms,200ms,200ms"}, database_url=url)
        (body,) = server.query("SELECT payload FROM webhook_deliveries WHERE id = 'd-old'")[0]
        assert body == BODY
        _, admin = flows.new_admin(server)
        rotated = requests.post(server.url("/api/admin/webhooks/ep-old/rotate-secret"), headers=admin, timeout=30)
        assert rotated.status_code == 200, rotated.text
        receiver.secrets.append(rotated.json()["secret"])
        # The endpoint takes every event: the admin's own user.verified may come too.
        old = lambda hits: [h for h in hits if h.webhook_id == "evt_old-1"]  # noqa: E731
        hit = old(receiver.wait_for(old))[0]
        assert hit.body == BODY.encode() and hit.valid
        metrics = requests.get(server.url("/metrics"), timeout=30).text
        assert "webhook_queue_depth" in metrics and "webhook_oldest_pending_seconds" in metrics
        indexes = server.query("SELECT indexname FROM pg_indexes WHERE tablename = 'webhook_deliveries'"
                               if backend == "postgresql" else
                               "SELECT name FROM sqlite_master "
                               "WHERE type = 'index' AND tbl_name = 'webhook_deliveries'")
        names = {row[0] for row in indexes}
        assert "webhook_deliveries_due" in names and "webhook_deliveries_pending" not in names
    finally:
        receiver.stop()
