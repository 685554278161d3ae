#!/usr/bin/python3
"""Apply throughput with webhooks, and how far delivery lags (docs/PERFORMANCE.md, Webhooks).

  bench/webhook_bench.py --duration 30
  bench/webhook_bench.py --backend postgresql --duration 10

Three runs, each on a freshly seeded database (bench/bench.py's Seeder: apply
uses every fresh referee once): `apply` with no webhook endpoint; with three
endpoints subscribed to every event, on receivers answering 200 at once; and
the same with one of the three hanging past WEBHOOK_TIMEOUT. The receivers
(tests/api/support/webhook_receiver.py) check every signature. Lag is the
time from an event's `created_at` to its arrival at a receiver; the
`webhook_oldest_pending_seconds` gauge is sampled every 0.5 s as well.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
import urllib.request

import bench  # bench/bench.py: Seeder, start_server, wrk, scratch_database
from support.webhook_receiver import WebhookReceiver  # tests/api/support (bench puts tests/api on the path)

TIMEOUT_SECONDS = 10


def parse_time(text: str) -> float:
    return bench.dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=bench.dt.timezone.utc).timestamp()


def create_endpoint(base: str, admin_token: str, url: str) -> str:
    request = urllib.request.Request(base + "/api/admin/webhooks", method="POST",
                                     data=json.dumps({"url": url, "events": ["*"]}).encode(),
                                     headers={"Authorization": f"Bearer {admin_token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["secret"]


def sample_gauge(base: str, stop: threading.Event, samples: list[float]) -> None:
    while not stop.wait(0.5):
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(base + "/metrics", timeout=5) as answer:
                found = re.search(r"^webhook_oldest_pending_seconds (\S+)$", answer.read().decode(), re.M)
                if found:
                    samples.append(float(found.group(1)))


def lags(receiver: WebhookReceiver) -> list[float]:
    return sorted(hit.at - parse_time(hit.event["created_at"]) for hit in receiver.hits if hit.answered == 200)


def percentile(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, int(fraction * len(values)))] if values else float("nan")


def run(args, receivers: list[WebhookReceiver]) -> dict:
    """One apply run with `receivers` subscribed to every event."""
    with contextlib.ExitStack() as stack:
        workdir, url = bench.scratch_database(stack, args.backend, "webhooks")
        seeder = bench.Seeder(url, args.binary, workdir)
        seeder.seed(args.users, args.referrers, max(args.duration * 6000, 20000))
        server = bench.start_server(args.binary, url, workdir, {
            "SQLITE_SYNCHRONOUS": "FULL", "WEBHOOK_ALLOW_HTTP": "true", "WEBHOOK_ALLOW_PRIVATE": "true",
            "WEBHOOK_TIMEOUT": f"{TIMEOUT_SECONDS}s"})
        stack.callback(lambda: (server.terminate(), server.wait(30)))
        base = f"http://127.0.0.1:{server.port}"
        for receiver in receivers:
            receiver.secrets.append(create_endpoint(base, seeder.tokens["admin"][0], receiver.url))
        fresh = max(args.duration * 6000, 20000)
        apply = next(s for s in bench.scenarios(seeder) if s["name"] == "apply")
        apply = {**apply, "tokens": bench.take_fresh(seeder, fresh), "unique": True, "body": "{}"}
        samples: list[float] = []
        stop = threading.Event()
        sampler = threading.Thread(target=sample_gauge, args=(base, stop, samples))
        sampler.start()
        result = bench.wrk(base, apply, args.duration, args.connections, args.threads, workdir)
        time.sleep(3)  # let delivery drain
        stop.set()
        sampler.join()
        events = bench.harness.query(url, "SELECT COUNT(*) FROM domain_events")[0][0]
        return {"rps": result["rps"], "events": events, "gauge_max": max(samples, default=float("nan")),
                "receivers": [(len(r.hits), lags(r)) for r in receivers]}


def main() -> None:
    parser = bench.load_arguments(__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    rows = []
    for name, hanging in (("no webhooks", None), ("3 endpoints", []), ("3 endpoints, 1 hanging", [0])):
        receivers = [] if hanging is None else [WebhookReceiver() for _ in range(3)]
        for index, receiver in enumerate(receivers):
            receiver.url = receiver.start()
            if index in (hanging or []):
                receiver.hang = TIMEOUT_SECONDS + 1
        try:
            rows.append((name, hanging or [], run(args, receivers)))
        finally:
            for receiver in receivers:
                receiver.stop()
        print(f"  {name}: {rows[-1][2]['rps']:.0f} apply/s", flush=True)
    baseline = rows[0][2]["rps"]
    print(f"\n{args.backend}, SQLITE_SYNCHRONOUS=FULL, wrk -t{args.threads} -c{args.connections} -d{args.duration}s\n")
    print("| run | apply/s | × no webhooks | events | deliveries (fast receivers) | lag p50 s | lag p99 s | lag max s |"
          " oldest-pending gauge max s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, hanging, r in rows:
        fast = [lag for index, (_, lag) in enumerate(r["receivers"]) if index not in hanging]
        all_lags = sorted(value for lag in fast for value in lag)
        delivered = sum(len(lag) for lag in fast)
        print(f"| {name} | {r['rps']:.0f} | {r['rps'] / baseline:.2f} | {r['events']} | {delivered} | "
              f"{percentile(all_lags, 0.5):.3f} | {percentile(all_lags, 0.99):.3f} | "
              f"{(all_lags[-1] if all_lags else float('nan')):.3f} | {r['gauge_max']:.2f} |")


if __name__ == "__main__":
    main()
