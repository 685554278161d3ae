"""The operations endpoints and the route list vs the OpenAPI document."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re

import requests

import flows
import harness
from checks import wait_until

HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "trace"}


def test_healthz_is_ok(server):
    response = requests.get(server.url("/healthz"), timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json() == {"status": "ok"}


def test_readyz_answers_200_when_the_database_answers(server):
    response = requests.get(server.url("/readyz"), timeout=10)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")


def metric_samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Parses Prometheus text exposition lines into (name, labels, value)."""
    samples = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)', line)
        assert match, f"not a Prometheus sample line: {line!r}"
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        samples.append((match.group(1), labels, float(match.group(3))))
    return samples


def test_metrics_expose_requests_latency_pool_and_build(server):
    assert requests.get(server.url("/healthz"), timeout=10).status_code == 200
    response = requests.get(server.url("/metrics"), timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = response.text
    samples = metric_samples(text)
    names = {name for name, _, _ in samples}

    healthz = [value for name, labels, value in samples
               if name == "http_requests_total"
               and labels == {"route": "/healthz", "method": "GET", "status": "200"}]
    assert healthz and healthz[0] >= 1, text
    assert "# TYPE http_requests_total counter" in text

    assert "# TYPE http_request_duration_seconds histogram" in text
    assert {"http_request_duration_seconds_bucket", "http_request_duration_seconds_sum",
            "http_request_duration_seconds_count"} <= names
    infinite = [labels for name, labels, _ in samples
                if name == "http_request_duration_seconds_bucket" and labels.get("le") == "+Inf"]
    assert infinite, text

    for gauge in ("db_pool_size", "db_pool_in_use", "referrald_build_info"):
        assert gauge in names, f"{gauge} missing from /metrics"
    pool_size = next(value for name, _, value in samples if name == "db_pool_size")
    assert pool_size >= 1


def test_the_pool_keeps_cores_plus_one_calls_in_flight_on_a_postgresql_on_this_host(server, backend):
    # The test database is on loopback. PostgreSQL's backends then share the
    # server's cores, and each lane keeps cores + 1 calls in flight (more only
    # add lock waits and task switches); SQLite reads take cores (at least 2)
    # and its 32 writers wait for the shared commit. Four sessions are the
    # background workers'.
    text = requests.get(server.url("/metrics"), timeout=10).text
    pool_size = next(value for name, _, value in metric_samples(text) if name == "db_pool_size")
    cores = os.cpu_count()
    expected = 2 * (cores + 1) + 4 if backend == "postgresql" else max(2, cores) + 32 + 4
    assert pool_size == expected, text


def test_the_server_names_its_threads(server, backend):
    # Per-thread CPU (/proc/PID/task, top -H, perf) is how the benchmarks tell
    # the writer, the dispatcher and the flusher apart. SQLite's writer
    # starts with the first write: a signup is one.
    assert flows.signup(server, flows.new_email()).status_code == 201
    named = {"http-io", "sweeper", "mail-sender", "webhooks", "hold-timer", "click-flusher",
             "sqlite-writer" if backend == "sqlite" else "db-listener"}
    tasks = pathlib.Path(f"/proc/{server.proc.pid}/task")

    def names() -> set[str]:
        return {(task / "comm").read_text().strip() for task in tasks.iterdir()}

    with contextlib.suppress(AssertionError):
        wait_until(lambda: named <= names(), 10)
    assert named <= names(), sorted(names())


def test_metrics_do_not_label_unknown_paths(server):
    # One label per unknown URL would let any client grow the registry forever.
    requests.get(server.url("/no-such-thing-4d1f"), timeout=10)
    text = requests.get(server.url("/metrics"), timeout=10).text
    assert "no-such-thing-4d1f" not in text


def test_openapi_is_an_openapi_3_document(server):
    response = requests.get(server.url("/openapi.json"), timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    document = response.json()
    assert str(document.get("openapi", "")).startswith("3."), document.get("openapi")
    assert isinstance(document.get("info"), dict) and document["info"].get("title")
    assert isinstance(document.get("paths"), dict) and document["paths"]


def test_served_openapi_is_the_one_in_docs(server):
    served = requests.get(server.url("/openapi.json"), timeout=10).json()
    on_disk = json.loads((harness.REPO / "docs" / "openapi.json").read_text(encoding="utf-8"))
    assert served == on_disk, "the binary embeds a stale docs/openapi.json: rebuild"


def listed_routes(tmp_path) -> tuple[set[tuple[str, str]], dict[tuple[str, str], str]]:
    done = harness.run_cli(["routes"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    canonical, aliases = set(), {}
    for line in done.stdout.splitlines():
        match = re.fullmatch(r"([A-Z]+) (/\S*)(?: alias-of (/\S*))?", line)
        assert match, f"unexpected line from `referrald routes`: {line!r}"
        method, pattern, target = match.groups()
        if target:
            aliases[(method, pattern)] = target
        else:
            canonical.add((method, pattern))
    assert canonical, "`referrald routes` printed no route"
    return canonical, aliases


def documented_operations() -> set[tuple[str, str]]:
    document = json.loads((harness.REPO / "docs" / "openapi.json").read_text(encoding="utf-8"))
    return {(method.upper(), path)
            for path, item in document["paths"].items()
            for method in item if method in HTTP_METHODS}


def test_every_route_is_documented_and_every_documented_route_exists(tmp_path):
    canonical, aliases = listed_routes(tmp_path)
    documented = documented_operations()
    undocumented = sorted(canonical - documented)
    assert not undocumented, f"routes missing from docs/openapi.json: {undocumented}"
    served = canonical | set(aliases)
    phantom = sorted(documented - served)
    assert not phantom, f"docs/openapi.json documents routes the server lacks: {phantom}"


def test_aliases_point_at_canonical_routes_of_the_same_method(tmp_path):
    canonical, aliases = listed_routes(tmp_path)
    dangling = sorted((method, alias, target) for (method, alias), target in aliases.items()
                      if (method, target) not in canonical)
    assert not dangling, f"aliases of routes that do not exist: {dangling}"
