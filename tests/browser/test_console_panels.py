"""The operator console's panels for API keys, webhooks, milestones and
budgets (docs/API.md, Web console), in headless Chromium: each is used as an
operator would, and the outcome is checked in the database and, for keys and
webhooks, from outside (the key calls /api/v1; a receiver checks the
signatures). A server without one of these route families does not show its
panel, and the test of that panel is skipped, saying so."""

from __future__ import annotations

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

import console as c
import flows
from conftest import serve
from test_console import assert_clean

PASSWORD = flows.PASSWORD


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # The webhook receiver listens on loopback over plain HTTP.
    yield from serve(tmp_path_factory, WEBHOOK_ALLOW_HTTP="true", WEBHOOK_ALLOW_PRIVATE="true",
                     WEBHOOK_RETRY_SCHEDULE="1h")


def admin_in_console(server, browser, route: str):
    """An admin logged in to /admin/ by keyboard, once `route` exists (else skip)."""
    email, admin = flows.new_admin(server)
    answer = requests.get(server.url(route), headers=admin, timeout=30)
    if answer.status_code == 404 and answer.json().get("code") == "not_found":
        pytest.skip(f"this server has no {route}: its console panel is hidden")
    driver = browser()
    c.log_in_by_keyboard(driver, server.url("/admin/"), email, PASSWORD)
    c.visible(driver, "#overview")
    return driver, email, admin


def v1_referrals(server, key: str, user_id: str) -> requests.Response:
    return requests.get(server.url(f"/api/v1/users/{user_id}/referrals"),
                        headers={"Authorization": f"Bearer {key}"}, timeout=30)


def test_an_api_key_created_in_the_console_works_until_revoked(server, browser, artifacts):
    driver, email, _ = admin_in_console(server, browser, "/api/admin/api-keys")
    form = c.visible(driver, "#api-keys form.create")
    # Keyboard only: type the name, tick events:write (Tab, Space) and
    # referrals:read (three more Tabs, Space), Enter in the name submits.
    name = form.find_element(By.NAME, "name")
    name.send_keys("Shop backend", Keys.TAB, Keys.SPACE, Keys.TAB, Keys.TAB, Keys.TAB, Keys.SPACE)
    name.send_keys(Keys.ENTER)
    key = c.visible(driver, "#api-keys .secret-field").get_attribute("value")
    assert key.startswith("rk_") and len(key) == 43, key
    rows = server.query("SELECT id, name, prefix, key_hash, scope_bits FROM api_keys WHERE prefix = %s", (key[:8],))
    assert len(rows) == 1, rows
    key_id, stored_name, _, key_hash, scope_bits = rows[0]
    assert (stored_name, scope_bits) == ("Shop backend", 1 | 8)  # events:write, referrals:read
    assert key not in key_hash  # only a hash is kept
    c.text_in(driver, f"#api-keys tr[data-api-key='{key_id}']", f"{key[:8]}…")

    admin_id = flows.user_id(server, email)
    answer = v1_referrals(server, key, admin_id)
    assert answer.status_code == 200, answer.text
    assert answer.json() == []
    c.screenshot(driver, artifacts, "admin-api-keys", "#api-keys")

    row = f"//tr[@data-api-key='{key_id}']"
    c.button(driver, "Revoke", row).click()
    c.button(driver, "Confirm revoke", row).click()
    c.text_in(driver, f"#api-keys tr[data-api-key='{key_id}'] .badge", "revoked")
    assert server.query("SELECT revoked_at IS NOT NULL FROM api_keys WHERE id = %s", (key_id,))[0][0]
    answer = v1_referrals(server, key, admin_id)
    assert answer.status_code == 401 and answer.json()["code"] == "invalid_api_key", answer.text
    assert_clean(driver, "API keys panel")


def delivery_status(server, endpoint_id: str, event_id: str) -> tuple[str, int]:
    rows = server.query("SELECT status, attempts FROM webhook_deliveries WHERE endpoint_id = %s AND event_id = %s",
                        (endpoint_id, event_id))
    return tuple(rows[0]) if rows else ("", 0)


def send_test(driver, server, receiver, row: str, seen: int):
    """Clicks "Send test" and returns the receiver's next webhook.test hit."""
    c.button(driver, "Send test", row).click()
    hits = receiver.wait_for(lambda hits: len(hits) > seen, timeout=20)
    assert hits[seen].event["type"] == "webhook.test", hits[seen].event
    return hits[seen]


def test_a_webhook_endpoint_is_run_from_the_console(server, browser, artifacts):
    driver, _, _ = admin_in_console(server, browser, "/api/admin/webhooks")
    from support.webhook_receiver import WebhookReceiver  # comes with the webhook routes

    receiver = WebhookReceiver()
    url = receiver.start()
    try:
        form = c.visible(driver, "#webhooks form.create")
        c.fill(form, {"url": url, "description": "CRM sync"})
        form.find_element(By.CSS_SELECTOR, "input[name=event][value='*']").click()
        c.submit(form)
        secret = c.visible(driver, "#webhooks .secret-field").get_attribute("value")
        assert secret.startswith("whsec_"), secret
        receiver.secrets.append(secret)
        endpoint_id, events = server.query("SELECT id, events FROM webhook_endpoints WHERE url = %s", (url,))[0]
        assert events == "*"
        row = f"//tr[@data-webhook='{endpoint_id}']"

        hit = send_test(driver, server, receiver, row, 0)
        assert hit.valid and hit.signed_by == (secret,), hit
        c.button(driver, "Deliveries", row).click()
        c.text_in(driver, "#webhooks .deliveries table", "webhook.test")

        # A failed attempt, then Retry in the deliveries list delivers it.
        receiver.status = 500
        failed = send_test(driver, server, receiver, row, 1)
        c.wait(driver, lambda d: delivery_status(server, endpoint_id, failed.webhook_id) == ("pending", 1))
        receiver.status = 200
        c.button(driver, "Refresh", "//section[contains(@class,'deliveries')]").click()
        retry_row = f"//tr[@data-delivery][.//small[text()='{failed.webhook_id}']]"
        c.button(driver, "Retry", retry_row).click()
        retried = receiver.wait_for(lambda hits: len(hits) > 2, timeout=20)[2]
        assert retried.webhook_id == failed.webhook_id and retried.body == failed.body
        c.wait(driver, lambda d: delivery_status(server, endpoint_id, failed.webhook_id) == ("delivered", 2))
        c.button(driver, "Refresh", "//section[contains(@class,'deliveries')]").click()
        c.wait(driver, lambda d: not d.find_elements(By.CSS_SELECTOR, "#webhooks .deliveries .badge.wait"))
        c.screenshot(driver, artifacts, "admin-webhooks", "#webhooks")

        # Rotate: the new secret is shown once; both secrets sign for a while.
        c.button(driver, "Rotate secret", row).click()
        c.button(driver, "Confirm rotate secret", row).click()
        rotated = c.visible(driver, f"#webhooks tr[data-webhook='{endpoint_id}'] .secret-field").get_attribute("value")
        assert rotated.startswith("whsec_") and rotated != secret
        receiver.secrets.append(rotated)
        hit = send_test(driver, server, receiver, row, 3)
        assert set(hit.signed_by) == {secret, rotated}, hit

        c.button(driver, "Disable", row).click()
        c.text_in(driver, f"#webhooks tr[data-webhook='{endpoint_id}'] .badge", "disabled")
        assert server.query("SELECT enabled FROM webhook_endpoints WHERE id = %s", (endpoint_id,))[0][0] == 0
        c.button(driver, "Enable", row).click()
        c.text_in(driver, f"#webhooks tr[data-webhook='{endpoint_id}'] .badge", "enabled")
        assert server.query("SELECT enabled FROM webhook_endpoints WHERE id = %s", (endpoint_id,))[0][0] == 1
        assert_clean(driver, "webhooks panel")
    finally:
        receiver.stop()


def test_milestones_and_budget_use_in_the_console(server, browser, artifacts):
    driver, _, admin = admin_in_console(server, browser, "/api/admin/milestones")
    config = flows.reward_config(server, admin, value=100, budget=1000)
    _, referrer = flows.new_user(server)
    _, referee = flows.new_user(server)
    answer = flows.apply_code(server, referee, flows.referral_code(server, referrer))
    assert answer.status_code == 200, answer.text
    driver.refresh()
    c.text_in(driver, f"#configs tr[data-config='{config['id']}']", "100 of 1000 used")

    form = c.visible(driver, "#milestones form")
    c.fill(form, {"successful_referrals": "5", "reward_value": "2500"})
    c.submit(form)
    c.text_in(driver, "#milestones table", "5 successful referrals")
    milestone_id, threshold, value, active = server.query(
        "SELECT id, successful_referrals, reward_value, is_active FROM milestones WHERE reward_value = 2500")[0]
    assert (threshold, active) == (5, 1)
    c.screenshot(driver, artifacts, "admin-milestones", "#milestones")
    c.button(driver, "Deactivate", f"//tr[@data-milestone='{milestone_id}']").click()
    c.text_in(driver, f"#milestones tr[data-milestone='{milestone_id}']", "inactive")
    assert server.query("SELECT is_active FROM milestones WHERE id = %s", (milestone_id,))[0][0] == 0
    assert_clean(driver, "milestones and configs panels")
