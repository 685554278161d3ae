#!/usr/bin/env python3
"""CPU per webhook exchange of the server's HTTP client alone, and of nginx.

  bench/webhook_client_bench.py                       # 16 and 256 per endpoint, 3 endpoints
  bench/webhook_client_bench.py --per-endpoint 16 64 256 --seconds 10

Builds `referrald-webhook-client-bench` (bench/webhook_client/main.cpp), which
keeps N POSTs of a 700-byte body with the signing headers in flight to each of
three receivers on one nginx (bench/nginx_sink.py) through webhook::HttpClient:
no database, no signing, no dispatcher. It prints the client's CPU per
answered request; this script adds nginx's (its worker's user+system time over
the run divided by the same requests). docs/PERFORMANCE.md, Webhooks, compares
the figures with what a delivery costs the whole server.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import bench  # noqa: E402  (process_cpu_seconds)
from nginx_sink import NginxSink  # noqa: E402

TARGET = "referrald-webhook-client-bench"


def build(build_dir: pathlib.Path) -> pathlib.Path:
    subprocess.run(["cmake", "--build", str(build_dir), "--target", TARGET], check=True,
                   stdout=subprocess.DEVNULL)
    return build_dir / TARGET


def worker_cpu_seconds(master_pid: int) -> float:
    """User+system seconds of nginx's worker processes (children of the master)."""
    children = pathlib.Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return sum(bench.process_cpu_seconds(int(pid)) for pid in children)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build-dir", type=pathlib.Path, default=ROOT / "build" / "release")
    parser.add_argument("--per-endpoint", type=int, nargs="+", default=[16, 256])
    parser.add_argument("--endpoints", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()

    binary = build(args.build_dir)
    sink = NginxSink(args.endpoints)
    try:
        print("| in flight | requests/s | client CPU µs/request | nginx CPU µs/request | connections |")
        print("|---:|---:|---:|---:|---:|")
        for per_endpoint in args.per_endpoint:
            nginx_before = worker_cpu_seconds(sink.proc.pid)
            run = subprocess.run([str(binary), str(args.seconds), str(per_endpoint), *map(str, sink.ports)],
                                 capture_output=True, text=True, check=True)
            nginx_used = worker_cpu_seconds(sink.proc.pid) - nginx_before
            result = json.loads(run.stdout)
            # nginx's time covers the uncounted first second too: a little high.
            requests = result["requests_per_s"] * (args.seconds + 1)
            print(f"| {result['in_flight']} | {result['requests_per_s']:,.0f} | {result['cpu_us_per_request']:.1f} "
                  f"| {nginx_used / requests * 1e6:.1f} | {result['connections']} |", flush=True)
    finally:
        sink.stop()


if __name__ == "__main__":
    main()
