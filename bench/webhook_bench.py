#!/usr/bin/python3
"""Apply throughput with webhooks, and how far delivery lags (docs/PERFORMANCE.md, Webhooks).

  bench/webhook_bench.py --duration 30
  bench/webhook_bench.py --backend postgresql --duration 10

Three runs, each on a freshly seeded database (bench/bench.py's Seeder: apply
uses every fresh referee once): `apply` with no webhook endpoint; with three
endpoints subscribed to every event, on receivers answering 200 at once; and
the same with one of the three hanging past WEBHOOK_TIMEOUT. The fast
receivers are one nginx (bench/nginx_sink.py), so they cost far less CPU than
the server; the hanging one is tests/api/support/webhook_receiver.py.

After wrk stops, the run waits (up to --drain seconds) until the fast
endpoints have nothing pending. Lag is an arrival's time in nginx's log minus
its event's `created_at` in domain_events; the `webhook_oldest_pending_seconds`
gauge is sampled every 0.5 s as well. Server CPU is the process's user+system
time from wrk's start to the end of the drain; CPU per delivery is what a run
used beyond the run without webhooks (per apply) divided by the deliveries.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
import urllib.request

import bench  # bench/bench.py: Seeder, start_server, wrk, scratch_database
from nginx_sink import NginxSink
from support.webhook_receiver import WebhookReceiver  # tests/api/support (bench puts tests/api on the path)

TIMEOUT_SECONDS = 10
RUNS = (("no webhooks", 0, False), ("3 endpoints", 3, False), ("3 endpoints, 1 hanging", 2, True))


def create_endpoint(base: str, admin_token: str, url: str) -> None:
    request = urllib.request.Request(base + "/api/admin/webhooks", method="POST",
                                     data=json.dumps({"url": url, "events": ["*"]}).encode(),
                                     headers={"Authorization": f"Bearer {admin_token}",
                                              "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()


def sample_gauge(base: str, stop: threading.Event, samples: list[float]) -> None:
    while not stop.wait(0.5):
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(base + "/metrics", timeout=5) as answer:
                found = re.search(r"^webhook_oldest_pending_seconds (\S+)$", answer.read().decode(), re.M)
                if found:
                    samples.append(float(found.group(1)))


def metric(base: str, name: str) -> float:
    with urllib.request.urlopen(base + "/metrics", timeout=10) as answer:
        found = re.search(rf"^{name} (\S+)$", answer.read().decode(), re.M)
    return float(found.group(1)) if found else float("nan")


def undelivered(url: str, fast_urls: list[str]) -> int:
    """Events the webhooks' cursor has not passed, plus the fast endpoints' pending rows."""
    marks = ", ".join(["%s"] * len(fast_urls))
    pending = bench.harness.query(url, "SELECT COUNT(*) FROM webhook_deliveries d JOIN webhook_endpoints e"
                                       f" ON e.id = d.endpoint_id WHERE d.status = 'pending' AND e.url IN ({marks})",
                                  tuple(fast_urls))[0][0]
    behind = bench.harness.query(url, "SELECT (SELECT COALESCE(MAX(seq), 0) FROM domain_events)"
                                      " - COALESCE((SELECT MAX(last_seq) FROM event_cursors"
                                      " WHERE consumer = 'webhooks'), 0)")[0][0]
    return pending + max(0, behind)


def drain(url: str, fast_urls: list[str], limit: float) -> float:
    """Seconds until the fast endpoints have nothing left to receive (at most `limit`)."""
    started = time.monotonic()
    while fast_urls and time.monotonic() - started < limit and undelivered(url, fast_urls) > 0:
        time.sleep(0.25)
    return time.monotonic() - started


def percentile(values: list[float], fraction: float) -> float:
    return values[min(len(values) - 1, int(fraction * len(values)))] if values else float("nan")


def run(args, fast: int, hanging: bool) -> dict:
    """One apply run with `fast` nginx receivers and maybe one hanging receiver."""
    with contextlib.ExitStack() as stack:
        workdir, url = bench.scratch_database(stack, args.backend, "webhooks")
        seeder = bench.Seeder(url, args.binary, workdir)
        fresh = max(args.duration * 6000, 20000)
        seeder.seed(args.users, args.referrers, fresh)
        server = bench.start_server(args.binary, url, workdir, {
            "SQLITE_SYNCHRONOUS": "FULL", "WEBHOOK_ALLOW_HTTP": "true", "WEBHOOK_ALLOW_PRIVATE": "true",
            "WEBHOOK_TIMEOUT": f"{TIMEOUT_SECONDS}s", **dict(args.server_env)})
        stack.callback(lambda: (server.terminate(), server.wait(30)))
        base = f"http://127.0.0.1:{server.port}"
        sink = NginxSink(fast) if fast else None
        if hanging:
            slow = WebhookReceiver()
            slow.hang = TIMEOUT_SECONDS + 1
            stack.callback(slow.stop)
            create_endpoint(base, seeder.tokens["admin"][0], slow.start())
        fast_urls = sink.urls if sink else []
        for receiver_url in fast_urls:
            create_endpoint(base, seeder.tokens["admin"][0], receiver_url)
        apply = next(s for s in bench.scenarios(seeder) if s["name"] == "apply")
        apply = {**apply, "tokens": bench.take_fresh(seeder, fresh), "unique": True, "body": "{}"}
        samples: list[float] = []
        stop = threading.Event()
        sampler = threading.Thread(target=sample_gauge, args=(base, stop, samples))
        sampler.start()
        cpu_before = bench.process_cpu_seconds(server.pid)
        result = bench.wrk(base, apply, args.duration, args.connections, args.threads, workdir)
        wrk_end = time.time()
        stop.set()
        sampler.join()
        drained = drain(url, fast_urls, args.drain)
        cpu = bench.process_cpu_seconds(server.pid) - cpu_before
        rounds = metric(base, "webhook_dispatcher_rounds_total")
        round_seconds = metric(base, "webhook_dispatcher_round_seconds_total")
        arrivals = sink.stop() if sink else []
        created = dict(bench.harness.query(url, "SELECT id, created_at FROM domain_events"))
        hits = [hit for receiver in arrivals for hit in receiver if hit.status == 200]
        lags = sorted(hit.at - created[hit.webhook_id] / 1000 for hit in hits if hit.webhook_id in created)
        return {"rps": result["rps"], "applies": result["requests"], "events": len(created), "fast": fast,
                "in_run": sum(hit.at <= wrk_end for hit in hits), "delivered": len(hits), "drain": drained,
                "lags": lags, "gauge_max": max(samples, default=float("nan")), "cpu": cpu,
                "rounds": rounds, "round_ms": round_seconds * 1000 / rounds if rounds else float("nan")}


def main() -> None:
    parser = bench.load_arguments(__doc__)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--drain", type=float, default=60, help="seconds to wait for delivery after wrk")
    parser.add_argument("--server-env", nargs="*", default=[], type=lambda text: tuple(text.split("=", 1)),
                        help="NAME=value settings for the server (e.g. WEBHOOK_MAX_IN_FLIGHT=64)")
    args = parser.parse_args()
    rows = []
    for name, fast, hanging in RUNS:
        rows.append((name, run(args, fast, hanging)))
        print(f"  {name}: {rows[-1][1]['rps']:.0f} apply/s", flush=True)
    baseline = rows[0][1]
    cpu_per_apply = baseline["cpu"] / baseline["applies"]
    print(f"\n{args.backend}, SQLITE_SYNCHRONOUS=FULL, wrk -t{args.threads} -c{args.connections} -d{args.duration}s"
          f" {' '.join('='.join(pair) for pair in args.server_env)}\n")
    print("| run | apply/s | × none | events | owed to fast receivers | delivered in the run | drain s | lag p50 s |"
          " lag p99 s | lag max s | oldest-pending gauge max s | server CPU µs/apply | CPU µs/delivery |"
          " dispatcher rounds | ms per round |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, r in rows:
        lags = r["lags"]
        extra = r["cpu"] - r["applies"] * cpu_per_apply
        per_delivery = f"{extra * 1e6 / r['delivered']:.0f}" if r["delivered"] else "–"
        print(f"| {name} | {r['rps']:,.0f} | {r['rps'] / baseline['rps']:.2f} | {r['events']:,} |"
              f" {r['events'] * r['fast']:,} | {r['in_run']:,} | {r['drain']:.1f} | {percentile(lags, 0.5):.3f} |"
              f" {percentile(lags, 0.99):.3f} | {(lags[-1] if lags else float('nan')):.3f} | {r['gauge_max']:.2f} |"
              f" {r['cpu'] * 1e6 / max(1, r['applies']):.0f} | {per_delivery} | {r['rounds']:,.0f} | {r['round_ms']:.1f} |")


if __name__ == "__main__":
    main()
