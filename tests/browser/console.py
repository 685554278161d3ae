"""Helpers for driving the console pages in Chromium."""

from __future__ import annotations

import json
import pathlib

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

WAIT = 15


def wait(driver: WebDriver, condition, timeout: float = WAIT):
    return WebDriverWait(driver, timeout).until(condition)


def visible(driver: WebDriver, css: str, timeout: float = WAIT):
    return wait(driver, EC.visibility_of_element_located((By.CSS_SELECTOR, css)), timeout)


def text_in(driver: WebDriver, css: str, text: str, timeout: float = WAIT):
    return wait(driver, EC.text_to_be_present_in_element((By.CSS_SELECTOR, css), text), timeout)


def button(driver: WebDriver, text: str, within: str = "", timeout: float = WAIT):
    """A button with this text (inside the XPath `within`), once it can be clicked."""
    return wait(driver, EC.element_to_be_clickable((By.XPATH, f"{within}//button[text()='{text}']")), timeout)


def fill(form, values: dict) -> None:
    for name, value in values.items():
        field = form.find_element(By.NAME, name)
        field.clear()
        field.send_keys(value)


def submit(form) -> None:
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def form_titled(driver: WebDriver, title_id: str):
    return visible(driver, f"form[aria-labelledby={title_id}]")


def log_in_by_keyboard(driver: WebDriver, url: str, email: str, password: str) -> None:
    """Opens `url` and logs in with the keyboard only: the login form takes
    focus, Tab moves on, Enter submits."""
    driver.get(url)
    form_titled(driver, "login-title")
    wait(driver, lambda d: d.switch_to.active_element.get_attribute("name") == "email")
    driver.switch_to.active_element.send_keys(email, Keys.TAB, password, Keys.ENTER)


def problems(driver: WebDriver) -> list[dict]:
    """Console entries that are JavaScript errors or policy violations.

    A failed fetch is logged by Chromium as a "network" entry: the pages
    expect some (401 before login, 404 from parts of the API a server does
    not have), so those are left out; anything thrown or refused is not."""
    entries = driver.get_log("browser")
    return [entry for entry in entries
            if entry["source"] != "network" or "Content Security Policy" in entry["message"]
            if entry["level"] in ("SEVERE", "WARNING") or "Content Security Policy" in entry["message"]]


def screenshot(driver: WebDriver, folder: pathlib.Path, name: str, css: str = "") -> None:
    """PNGs at 1280 and 360 CSS pixels wide: the full page, or only the
    element `css` (a console panel)."""
    for width in (1280, 360):
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": 800, "deviceScaleFactor": 1, "mobile": width < 500})
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": width, "height": min(int(height), 4000), "deviceScaleFactor": 1,
                                "mobile": width < 500})
        png = driver.find_element(By.CSS_SELECTOR, css).screenshot_as_png if css else driver.get_screenshot_as_png()
        (folder / f"{name}-{width}.png").write_bytes(png)
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def first_load(driver: WebDriver) -> dict:
    """What the page's first load fetched and when it became usable (Performance API)."""
    return json.loads(driver.execute_script("""
      const nav = performance.getEntriesByType('navigation')[0];
      const resources = performance.getEntriesByType('resource');
      const ready = performance.getEntriesByName('console-ready')[0];
      return JSON.stringify({
        requests: 1 + resources.length,
        bytes: nav.encodedBodySize + resources.reduce((sum, r) => sum + r.encodedBodySize, 0),
        transfer_bytes: nav.transferSize + resources.reduce((sum, r) => sum + r.transferSize, 0),
        hosts: [...new Set([location.host, ...resources.map((r) => new URL(r.name).host)])],
        dom_content_loaded_ms: nav.domContentLoadedEventEnd,
        load_ms: nav.loadEventEnd,
        ready_ms: ready ? ready.startTime : null,
        resources: resources.map((r) => [new URL(r.name).pathname, r.encodedBodySize]),
      });
    """))
