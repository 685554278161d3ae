"""Fixtures for the browser tests (README.md in this folder).

  server    one referrald (release binary, SQLite) with console mail, for the module
  browser   browser() -> a new headless Chromium (selenium) with its own profile;
            every one is closed at the end of the test
  artifacts the folder for screenshots and measurements
"""

from __future__ import annotations

import os
import pathlib
import sys
import tempfile

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "api"))

import harness  # noqa: E402  (needs the path above)

CHROMIUM = os.environ.get("REFERRALD_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("REFERRALD_CHROMEDRIVER", "/usr/bin/chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,900")


def pytest_report_header(config):
    return f"referrald: {harness.binary()}  chromium: {CHROMIUM}"


def serve(tmp_path_factory, **env):
    """Generator body of a module-scoped server fixture, with `env` added."""
    scratch = tmp_path_factory.mktemp("server")
    pool = harness.ServerPool(harness.Databases("sqlite", None, scratch), scratch)
    # A fixed port, so PUBLIC_URL can name it: the server accepts a
    # cookie-authenticated change only from its own origin (docs/API.md).
    port = harness.free_port()
    try:
        yield pool.start(env={"PORT": str(port), "PUBLIC_URL": f"http://127.0.0.1:{port}", **env})
    finally:
        pool.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> harness.Server:
    yield from serve(tmp_path_factory)


@pytest.fixture
def browser(tmp_path):
    drivers = []

    def start() -> webdriver.Chrome:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='profile-', dir=tmp_path)}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        drivers.append(driver)
        return driver

    try:
        yield start
    finally:
        for driver in drivers:
            driver.quit()


@pytest.fixture(scope="session")
def artifacts() -> pathlib.Path:
    folder = pathlib.Path(os.environ.get("REFERRALD_ARTIFACTS", harness.REPO / "build" / "browser-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
