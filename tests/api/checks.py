"""Assertions every API test module shares: the error answer's shape (through
requests, or read off the socket by wire.py), the Retry-After header, and
waiting for something the server does in the background."""

from __future__ import annotations

import time

import wire

JSON_TYPE = "application/json; charset=utf-8"


def assert_error(response, status: int, code: str) -> dict:
    """An error answer through requests; returns its body."""
    assert response.status_code == status, (response.status_code, response.url, response.text)
    return checked_error_body(response.headers.get("Content-Type"), response.json(), code)


def assert_wire_error(response: wire.RawResponse, status: int, code: str) -> dict:
    """An error answer wire.py read off the socket; returns its body."""
    assert response.status == status, (response.status, response.body)
    return checked_error_body(response.header("content-type"), response.json(), code)


def checked_error_body(content_type: str | None, body: dict, code: str) -> dict:
    """The docs/API.md error answer: JSON, exactly {"error": sentence, "code": code}."""
    assert content_type == JSON_TYPE, content_type
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
