"""Memory of the service under the cache-growth pattern of issue 11, measured in one run.

Issue 11 found that ten GETs of one large setting took the process from 619 MB to 1.6 GB
(no body limit, so the setting could be 100 MB, and a cache that never evicted). This
starts ``rms serve`` on a throwaway embedded SQLite database and reads the server's
resident memory (``VmRSS`` of ``/proc/<pid>/status``) at each step:

1. baseline: after start-up and a few warm-up requests;
2. a 100 MB setting is offered: it must be refused (413) without the server reading it;
3. the largest setting allowed (``API_MAX_SETTING_VALUE_BYTES``) is stored and read ten
   times (the issue's pattern), then 2,000 distinct list queries of settings are made
   (each a new cache key), which a cache without bounds would all keep.

It prints each step's RSS and its ratio to the baseline; flat means ratios near 1.0.
Nothing is asserted: a test never bounds a measurement. Linux only (``/proc``).

Run: ``.venv/bin/python bench/bench_reference_cache.py [--queries 2000]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from rms.devtools.pgcluster import free_port

RMS = [sys.executable, "-m", "rms.cli"]
TOKEN = "bench-cache-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rms-bench-cache-") as state:
        env = {**os.environ, "RMS_STATE_DIR": state, "RMS_API_TOKEN": TOKEN, "LOG_LEVEL": "WARNING"}
        subprocess.run([*RMS, "db", "upgrade"], env=env, check=True, capture_output=True)
        port = free_port()
        proc = subprocess.Popen(
            [*RMS, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            with httpx.Client(base_url=base, headers=AUTH, timeout=120) as http:
                deadline = time.monotonic() + 30
                while True:
                    try:
                        if http.get("/health/live").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.monotonic() > deadline:
                        raise RuntimeError("the server did not start")
                    time.sleep(0.1)
                for _ in range(20):
                    http.get("/api/settings")
                baseline = rss_mb(proc.pid)
                rows = [("baseline (started, warmed up)", baseline)]

                huge = b'{"key": "huge", "value": "' + b"x" * (100 * 1024 * 1024) + b'"}'
                status = http.post(
                    "/api/settings", content=huge, headers={"Content-Type": "application/json"}
                ).status_code
                rows.append(
                    (f"after offering a 100 MB setting (answered {status})", rss_mb(proc.pid))
                )

                limit = 64 * 1024 - 64
                big = {"key": "big", "value": {"blob": "y" * limit}}
                created = http.post("/api/settings", json=big).status_code
                for _ in range(10):
                    http.get("/api/settings/big")
                rows.append(
                    (
                        f"after storing a ~64 KiB setting ({created}) and 10 GETs of it",
                        rss_mb(proc.pid),
                    )
                )
                for n in range(args.queries):
                    http.get("/api/settings", params={"prefix": f"b{n}", "limit": 10})
                    if n % 200 == 0:
                        http.get("/api/settings", params={"limit": 10})  # the big one too
                rows.append((f"after {args.queries} distinct list queries", rss_mb(proc.pid)))
        finally:
            proc.terminate()
            proc.wait(30)
    print(f"# reference cache memory, {os.cpu_count()} CPUs, embedded SQLite")
    print(f"{'step':<70} {'RSS MB':>8} {'x baseline':>10}")
    for label, value in rows:
        print(f"{label:<70} {value:>8.1f} {value / baseline:>10.2f}")


if __name__ == "__main__":
    main()
