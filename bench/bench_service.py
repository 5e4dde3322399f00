"""Service benchmarks for issue 4, measured in one run on this machine.

1. The same request mix against the service on SQLite and on PostgreSQL: p50/p95 per
   endpoint and the ratio PostgreSQL/SQLite (target: within 1.2x).
2. 50, 100 and 200 concurrent clients against the PostgreSQL service: throughput, p95,
   errors (target: zero errors at 200 clients with a pool of at most 10).
3. Connection establishment p95 on a warm database (target under 500 ms), and the time to
   the first successful request after a pause minus the resume delay (target under 1 s),
   through the Aurora emulator.

Run: ``.venv/bin/python bench/bench_service.py [--requests 200]``. It starts its own
PostgreSQL cluster and servers; nothing needs to be running. Absolute times on a shared
2-core machine are noisy; read the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from rms.db.connect import ColdStartConnector, RetryPolicy
from rms.db.observe import DbObserver
from rms.devtools.aurora_sim import aurora_sim
from rms.devtools.pgcluster import PgCluster, free_port

ROOT = Path(__file__).resolve().parents[1]
RMS = [sys.executable, "-m", "rms.cli"]
#: The servers sign in with a fixed token, sent by every client here.
BENCH_TOKEN = "bench-service-token-0123456789"
AUTH = {"Authorization": f"Bearer {BENCH_TOKEN}"}

MIX = [
    ("GET /api/accounts", "GET", "/api/accounts", None),
    ("GET /api/trades open", "GET", "/api/trades?status=open&limit=50", None),
    ("GET /api/div-deposits", "GET", "/api/div-deposits?kind=dividend&limit=50", None),
    ("GET /api/universe", "GET", "/api/universe?limit=50", None),
    ("GET /api/summary", "GET", "/api/summary?month=2024-06", None),
    ("GET /api/summary/graph", "GET", "/api/summary/graph?year=2024", None),
    ("POST /api/div-deposit-types", "POST", "/api/div-deposit-types", {"name": "bench"}),
]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(cmd: list[str], env: dict[str, str]) -> None:
    subprocess.run(cmd, env=env, check=True, capture_output=True, cwd=ROOT)


@contextmanager
def serve(url: str, **extra_env: str) -> Iterator[str]:
    state = tempfile.mkdtemp(prefix="rms-bench-state-")
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
        "RMS_STATE_DIR": state,
        "RMS_API_TOKEN": BENCH_TOKEN,
        **extra_env,
    }
    run([*RMS, "db", "upgrade"], env)
    # A throwaway database: the demo portfolio is what the benchmark reads.
    run([*RMS, "db", "seed", "--demo", "--allow-non-embedded"], env)
    port = free_port()
    proc = subprocess.Popen(
        [*RMS, "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


def request_mix(base: str, rounds: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {name: [] for name, *_ in MIX}
    with httpx.Client(base_url=base, timeout=60, headers=AUTH) as http:
        for _name, method, path, body in MIX:  # warm-up
            http.request(method, path, json=body)
        for _ in range(rounds):
            for name, method, path, body in MIX:
                started = time.perf_counter()
                response = http.request(method, path, json=body)
                timings[name].append(time.perf_counter() - started)
                assert response.status_code < 400, response.text
    return timings


async def concurrent_load(base: str, clients: int, per_client: int) -> tuple[float, float, int]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits, headers=AUTH) as http:

        async def client(n: int) -> None:
            nonlocal errors
            for i in range(per_client):
                _, method, path, body = MIX[(n + i) % len(MIX)]
                started = time.perf_counter()
                try:
                    response = await http.request(method, path, json=body)
                    if response.status_code >= 400:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(clients)))
        elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, pct(latencies, 0.95), errors


def connect_p95(url: str, count: int) -> float:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    params = {
        "host": parsed.host,
        "port": parsed.port,
        "dbname": parsed.database,
        "user": parsed.username,
    }
    connector = ColdStartConnector(RetryPolicy(), DbObserver())
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        connector.connect(dict(params)).close()
        timings.append(time.perf_counter() - started)
    return pct(timings, 0.95)


def first_request_after_pause(url: str, cycles: int, resume_delay: float) -> list[float]:
    extra: list[float] = []
    with aurora_sim(url, pause_after=1.0, resume_delay=resume_delay) as sim:
        proxied = sim.proxied_url(url).replace("postgresql+psycopg", "postgresql")
        with (
            serve(proxied, DB_IDLE_RELEASE_SECONDS="0.5") as base,
            httpx.Client(base_url=base, timeout=60, headers=AUTH) as http,
        ):
            for _ in range(cycles):
                sim.wait_for_state("paused", timeout=30)
                started = time.perf_counter()
                response = http.get("/api/summary?month=2024-06")
                elapsed = time.perf_counter() - started
                assert response.status_code == 200, response.text
                extra.append(elapsed - resume_delay)
    return extra


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="rounds of the request mix")
    parser.add_argument("--per-client", type=int, default=10, help="requests per client")
    args = parser.parse_args()
    cluster = PgCluster().start()
    try:
        pg_url = cluster.url().replace("postgresql+psycopg", "postgresql")
        with tempfile.TemporaryDirectory() as tmp:
            sqlite_url = f"sqlite:///{tmp}/bench.db"
            print(
                f"# service benchmark, {os.cpu_count()} CPUs, {args.requests} rounds of "
                f"{len(MIX)} requests"
            )
            with serve(sqlite_url) as base:
                lite = request_mix(base, args.requests)
            with serve(pg_url, DB_POOL_SIZE="5", DB_MAX_OVERFLOW="5") as base:
                pg = request_mix(base, args.requests)
                print("\n## 1. request mix, one client (ms)\n")
                print(
                    "| endpoint | SQLite p50 | SQLite p95 | PostgreSQL p50 | PostgreSQL p95 "
                    "| PG/SQLite p50 | PG/SQLite p95 |"
                )
                print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
                for name in lite:
                    l50, l95 = pct(lite[name], 0.5) * 1e3, pct(lite[name], 0.95) * 1e3
                    p50, p95 = pct(pg[name], 0.5) * 1e3, pct(pg[name], 0.95) * 1e3
                    print(
                        f"| {name} | {l50:.2f} | {l95:.2f} | {p50:.2f} | {p95:.2f} "
                        f"| {p50 / l50:.2f} | {p95 / l95:.2f} |"
                    )
                all_lite = statistics.median([v for vs in lite.values() for v in vs])
                all_pg = statistics.median([v for vs in pg.values() for v in vs])
                print(
                    f"\nwhole mix p50 ratio PostgreSQL/SQLite: {all_pg / all_lite:.2f} "
                    "(target <= 1.2)"
                )
                print("\n## 2. concurrent clients, PostgreSQL, pool 5 + overflow 5 = 10\n")
                print("| clients | requests | throughput (req/s) | p95 (ms) | errors |")
                print("| ---: | ---: | ---: | ---: | ---: |")
                for clients in (50, 100, 200):
                    rps, p95, errors = asyncio.run(concurrent_load(base, clients, args.per_client))
                    print(
                        f"| {clients} | {clients * args.per_client} | {rps:.0f} | "
                        f"{p95 * 1e3:.0f} | {errors} |"
                    )
        print("\n## 3. connections\n")
        p95 = connect_p95(pg_url, 200)
        print(f"warm connection establishment p95: {p95 * 1e3:.1f} ms (target < 500 ms)")
        resume = 3.0
        extra = first_request_after_pause(pg_url, 3, resume)
        print(
            f"first request after a pause minus the {resume:.0f} s resume delay: "
            + ", ".join(f"{e * 1e3:.0f} ms" for e in extra)
            + f" (max {max(extra) * 1e3:.0f} ms, target < 1000 ms)"
        )
    finally:
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
