"""The web console in headless Chromium (docs/API.md, Web console): a participant
refers a friend, an operator reviews, and no page shows a script error or a
policy violation."""

from __future__ import annotations

import json

import requests
from selenium.webdriver.common.by import By

import console as c
import flows

PASSWORD = flows.PASSWORD


def sign_up_and_verify(server, driver, name: str, email: str) -> str:
    """Fills signup and verify; returns the message shown once verified."""
    form = c.form_titled(driver, "signup-title")
    seen = len(flows.mails_to(server, email))
    c.fill(form, {"name": name, "email": email, "password": PASSWORD})
    c.submit(form)
    verify = c.form_titled(driver, "verify-title")
    c.fill(verify, {"otp": flows.latest_code(server, email, seen)})
    c.submit(verify)
    return c.visible(driver, "p.notice.success").text


def log_in(driver, email: str) -> None:
    form = c.form_titled(driver, "login-title")
    c.fill(form, {"email": email, "password": PASSWORD})
    c.submit(form)


def share_link(driver) -> str:
    c.visible(driver, "#s-share")
    c.wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".link-field")
           or d.find_elements(By.XPATH, "//button[text()='Get my referral code']"))
    for button in driver.find_elements(By.XPATH, "//button[text()='Get my referral code']"):
        button.click()
    return c.visible(driver, ".link-field").get_attribute("value")


def assert_clean(driver, page: str) -> None:
    found = c.problems(driver)
    assert not found, f"{page}: console problems: {json.dumps(found, indent=1)}"


def test_a_participant_refers_a_friend_who_then_shows_in_their_list(server, browser, artifacts):
    _, admin = flows.new_admin(server)
    flows.reward_config(server, admin)
    referrer, friend = flows.new_email("ann"), flows.new_email("bob")

    ann = browser()
    ann.get(server.url("/"))
    response = requests.get(server.url("/"), timeout=10)
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    c.screenshot(ann, artifacts, "participant-signed-out")
    ann.find_element(By.CSS_SELECTOR, "form[aria-labelledby=signup-title] input[name=name]")
    assert "OTP verified successfully" in sign_up_and_verify(server, ann, "Ann Referrer", referrer)
    log_in(ann, referrer)
    link = share_link(ann)
    code = ann.find_element(By.CSS_SELECTOR, ".code").text
    assert code.startswith("REF-") and code in link
    c.button(ann, "Copy link").click()
    c.visible(ann, ".share .notice")
    qr_width = c.wait(ann, lambda d: d.execute_script("const i = document.querySelector('img.qr');"
                                                       "return i && i.complete && i.naturalWidth"))
    assert qr_width > 0
    assert_clean(ann, "participant page")

    bob = browser()
    bob.get(link)
    signup = c.form_titled(bob, "signup-title")
    assert signup.find_element(By.NAME, "referral_code").get_attribute("value") == code
    assert "Your referral code was applied." in sign_up_and_verify(server, bob, "Bob Friend", friend)
    log_in(bob, friend)
    c.visible(bob, "#s-share")
    assert_clean(bob, "referred participant's page")

    ann.refresh()
    c.text_in(ann, "section[aria-labelledby=s-my-referrals] table", "Bob Friend")
    c.text_in(ann, "section[aria-labelledby=s-my-numbers] .numbers", "Referrals")
    c.visible(ann, "svg.chart")
    c.screenshot(ann, artifacts, "participant")
    assert_clean(ann, "participant page after the referral")

    ann.get(server.url("/admin/"))
    refusal = c.visible(ann, ".refusal")
    assert "not an administrator" in refusal.text
    c.screenshot(ann, artifacts, "admin-refused")
    assert_clean(ann, "console refusing a participant")

    ann.get(server.url("/"))
    c.button(ann, "Log out").click()
    c.form_titled(ann, "login-title")
    assert requests.post(server.url("/api/auth/verify-session"),
                         cookies={"token": "none"}, timeout=10).status_code == 401


def flagged_referral(server, admin: dict) -> tuple[str, str]:
    """A referral flagged same_ip (both accounts log in from 127.0.0.1): (referral id, referee email)."""
    _, referrer = flows.new_user(server)
    code = flows.referral_code(server, referrer)
    referee_email, referee = flows.new_user(server)
    answer = flows.apply_code(server, referee, code)
    assert answer.status_code == 200 and answer.json()["flags"], answer.text
    return answer.json()["referral_id"], referee_email


def reward_statuses(server, referral_id: str) -> list[str]:
    return [row[0] for row in server.query("SELECT status FROM rewards WHERE referral_id = %s ORDER BY id",
                                           (referral_id,))]


def test_an_operator_approves_a_flagged_referral_and_revokes_a_reward(server, browser, artifacts):
    admin_email, admin = flows.new_admin(server)
    flows.reward_config(server, admin, beneficiary="REFEREE")
    flows.reward_config(server, admin)
    referral_id, _ = flagged_referral(server, admin)
    assert reward_statuses(server, referral_id) == ["PENDING", "PENDING"]

    driver = browser()
    c.log_in_by_keyboard(driver, server.url("/admin/"), admin_email, PASSWORD)
    row = f"tr[data-referral='{referral_id}']"
    c.visible(driver, row)
    c.visible(driver, "#overview .numbers")
    c.screenshot(driver, artifacts, "admin")
    c.button(driver, "Approve", f"//tr[@data-referral='{referral_id}']").click()
    c.text_in(driver, f"{row} .badge", "SUCCESS")
    assert reward_statuses(server, referral_id) == ["CREDITED", "CREDITED"]

    rewards = driver.find_element(By.ID, "rewards")
    rewards.find_element(By.NAME, "status").send_keys("CREDITED")
    reward_id = server.query("SELECT id FROM rewards WHERE referral_id = %s ORDER BY id", (referral_id,))[0][0]
    reward_row = f"#rewards tr[data-reward='{reward_id}']"
    c.visible(driver, reward_row)
    c.button(driver, "Revoke", f"//tr[@data-reward='{reward_id}']").click()
    reason = c.visible(driver, f"{reward_row} input[name=reason]")
    reason.send_keys("Duplicate account confirmed by support")
    c.button(driver, "Confirm revoke", f"//tr[@data-reward='{reward_id}']").click()
    c.wait(driver, lambda d: server.query("SELECT status FROM rewards WHERE id = %s", (reward_id,))[0][0] == "REVOKED")
    history = server.query("SELECT reason FROM reward_events WHERE reward_id = %s AND to_status = 'REVOKED'",
                           (reward_id,))
    assert history == [("Duplicate account confirmed by support",)]

    search = driver.find_element(By.CSS_SELECTOR, "#users input[name=q]")
    search.send_keys(admin_email[:12])
    search.submit()
    c.text_in(driver, "#users table", admin_email)
    c.screenshot(driver, artifacts, "admin-reviewed")
    assert_clean(driver, "operator console")


def test_first_load_of_the_participant_page(server, browser, artifacts):
    fresh = browser()  # its own empty profile: nothing cached
    fresh.get(server.url("/"))
    c.form_titled(fresh, "login-title")
    figures = c.first_load(fresh)
    (artifacts / "first-load.json").write_text(json.dumps(figures, indent=1), encoding="utf-8")
    assert figures["hosts"] == [f"127.0.0.1:{server.port}"], figures["hosts"]
    assert figures["bytes"] <= 150 * 1024, figures
    assert figures["ready_ms"] is not None and figures["ready_ms"] < 1000, figures
    assert_clean(fresh, "participant page, first load")


def test_the_referrals_list_pages_through_the_link_header(server, browser):
    _, admin = flows.new_admin(server)
    flows.reward_config(server, admin)
    referrer_email, referrer = flows.new_user(server, name="Paging Referrer")
    code = flows.referral_code(server, referrer)
    for _ in range(11):  # the page asks for 10 at a time
        _, referee = flows.new_user(server)
        assert flows.apply_code(server, referee, code).status_code == 200

    driver = browser()
    driver.get(server.url("/"))
    log_in(driver, referrer_email)
    rows = "section[aria-labelledby=s-my-referrals] tbody tr"
    c.wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, rows)) == 10)
    c.button(driver, "Show more", "//section[@aria-labelledby='s-my-referrals']").click()
    c.wait(driver, lambda d: len(d.find_elements(By.CSS_SELECTOR, rows)) == 11)
    more = driver.find_element(By.XPATH, "//section[@aria-labelledby='s-my-referrals']//button[text()='Show more']")
    assert not more.is_displayed()
    assert_clean(driver, "participant page, second page of referrals")
