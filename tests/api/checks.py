"""Assertions every API test module shares: the error answer's shape, the
Retry-After header, and waiting for something the server does in the
background."""

from __future__ import annotations

import time

JSON_TYPE = "application/json; charset=utf-8"


def assert_error(response, status: int, code: str) -> dict:
    """The docs/API.md error body: exactly {"error": sentence, "code": code}."""
    assert response.status_code == status, (response.status_code, response.url, response.text)
    assert response.headers.get("Content-Type") == JSON_TYPE, response.headers
    body = response.json()
    assert set(body) == {"error", "code"}, body
    assert body["code"] == code, body
    assert isinstance(body["error"], str) and body["error"].strip(), body
    return body


def assert_retry_after(response, low: int = 1, high: int = 3600) -> int:
    value = response.headers.get("Retry-After")
    assert value is not None and value.isdigit(), response.headers
    assert low <= int(value) <= high, value
    return int(value)


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05, what: str = "condition"):
    """Polls `predicate` until it returns something true, which it returns."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        time.sleep(interval)
