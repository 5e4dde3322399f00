"""Failover and a bad network, measured on this machine in one run.

1. **Failover under load** (``tests/faults/failover.py``): ``rms serve`` connects by a name
   to a primary with a synchronous standby; under steady reads and writes the primary
   vanishes (black hole, then stopped), the standby is promoted and the name moved.
   Reported: the recovery time (failover start to the first acknowledged write that started
   after it),
   as a ratio of the request budget; requests that failed (503 with Retry-After) and any
   that took longer than the budget; writes acknowledged against rows in the promoted
   standby (lost or duplicated writes).
2. **200 ms round trips and 5 % packet loss** (``tests/faults/netns.py``): the same request
   mix over a clean link and over the shaped one (``tc netem`` where the kernel has it,
   else nftables loss plus the relay's delay, as printed): p50, p95, errors, and the ratio
   of the shaped p95 to the clean one.

Run: ``.venv/bin/python bench/bench_failover.py [--seconds 10] [--requests 100]`` as root
(namespaces, mount namespaces). It starts its own PostgreSQL clusters.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.faults

from tests.faults.failover import (
    FailoverRig,
    Outcome,
    failover_unavailable,
    run_load,
    service_process,
)
from tests.faults.netns import lossy_postgres, netns_unavailable
from tests.live_server import live_server

from rms.app import create_app
from rms.settings import load_settings

BUDGET = 10.0
CLIENTS = 4


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def failover(seconds: float) -> None:
    print("## 1. failover to a promoted standby under load\n")
    reason = failover_unavailable()
    if reason:
        print(f"skipped: {reason}\n")
        return
    env = {
        "DB_REQUEST_BUDGET_SECONDS": str(BUDGET),
        "DB_CONNECT_TIMEOUT_SECONDS": "5",
        "REFERENCE_CACHE_TTL_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }
    with tempfile.TemporaryDirectory() as tmp:
        rig = FailoverRig(Path(tmp)).start()
        outcomes: list[Outcome] = []
        stop = threading.Event()
        try:
            with service_process(rig, env, Path(tmp) / "service.log") as (base, proc):
                threads = [
                    threading.Thread(
                        target=run_load,
                        args=(base, stop, outcomes),
                        kwargs={"client_timeout": BUDGET + 30},
                    )
                    for _ in range(CLIENTS)
                ]
                for thread in threads:
                    thread.start()
                time.sleep(seconds / 2)
                rig.fail_over()
                time.sleep(seconds)
                stop.set()
                for thread in threads:
                    thread.join(120)
                restarted = proc.poll() is not None
            total, distinct = rig.count_accounts()
            stored = rig.account_ids()
        finally:
            rig.stop()
    at = rig.failed_over_at or 0.0
    before = [o for o in outcomes if o.started + o.seconds < at]
    during = [o for o in outcomes if o.started + o.seconds >= at]
    ok_after = [
        o.started + o.seconds
        for o in during
        if o.kind == "write" and o.status == 201 and o.started >= at
    ]
    recovery = (min(ok_after) - at) if ok_after else float("nan")
    failed = [o for o in outcomes if o.status not in (200, 201)]
    slow = [o for o in outcomes if o.status == 0 or o.seconds > BUDGET + 1]
    acknowledged = {o.account_id for o in outcomes if o.kind == "write" and o.status == 201}
    base_p95 = _pct([o.seconds for o in before], 0.95)
    print(f"clients {CLIENTS}, request budget {BUDGET:g} s, {len(outcomes)} requests")
    print(f"p95 before the failover              {base_p95 * 1000:8.1f} ms (baseline)")
    worst = max((o.seconds for o in during), default=float("nan"))
    print(f"slowest request after it started    {worst * 1000:8.1f} ms  x{worst / base_p95:.0f}")
    print(
        f"recovery (failover -> a write started after it acknowledged) {recovery:.2f} s, "
        f"x{recovery / BUDGET:.2f} of the budget"
    )
    print(
        "failed requests (503 + Retry-After)  "
        f"{len(failed):5d}  (reads {sum(o.kind == 'read' for o in failed)}, "
        f"writes {sum(o.kind == 'write' for o in failed)}; all with Retry-After: "
        f"{all(o.retry_after for o in failed if o.status == 503)})"
    )
    print(f"requests beyond the budget or hung   {len(slow):5d}")
    print(
        f"writes acknowledged {len(acknowledged)}, rows {total}, distinct {distinct}, "
        f"lost {len(acknowledged - stored)}, unacknowledged but stored {len(stored - acknowledged)}"
    )
    print(f"service restarted: {restarted}\n")


def _measure(base: str, requests: int, headers: dict[str, str]) -> tuple[list[float], int]:
    times: list[float] = []
    errors = 0
    with httpx.Client(base_url=base, timeout=60, headers=headers) as http:
        for n in range(requests):
            started = time.perf_counter()
            try:
                if n % 4 == 3:
                    response = http.post("/api/accounts", json={"name": f"bench {time.time_ns()}"})
                else:
                    response = http.get("/api/accounts", params={"limit": 5})
                if response.status_code >= 400:
                    errors += 1
            except httpx.HTTPError:
                errors += 1
            times.append(time.perf_counter() - started)
    return times, errors


def lossy(requests: int) -> None:
    print("## 2. 200 ms round trips and 5 % packet loss\n")
    reason = netns_unavailable()
    if reason:
        print(f"skipped: {reason}\n")
        return
    with lossy_postgres() as (link, _cluster):
        settings = load_settings(
            database_url=link.url("rms"),
            db_request_budget_seconds=25,
            reference_cache_ttl_seconds=0,
        )
        rows = []
        for label in ("clean link", "200 ms RTT, 5 % loss"):
            if label != "clean link":
                method = link.shape(round_trip_ms=200, loss_percent=5)
            app = create_app(settings)
            token = app.state.auth.local.value  # the app's own local sign-in token
            with live_server(app) as base:
                times, errors = _measure(base, requests, {"Authorization": f"Bearer {token}"})
            rows.append((label, times, errors))
        print(f"shaping: {method}\n")
        print("| link | requests | p50 (ms) | p95 (ms) | max (ms) | errors |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for label, times, errors in rows:
            print(
                f"| {label} | {len(times)} | {statistics.median(times) * 1000:.1f} | "
                f"{_pct(times, 0.95) * 1000:.1f} | {max(times) * 1000:.1f} | {errors} |"
            )
        ratio = _pct(rows[1][1], 0.95) / _pct(rows[0][1], 0.95)
        print(f"\np95 shaped / clean: x{ratio:.1f}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="load after the failover")
    parser.add_argument("--requests", type=int, default=100, help="requests per link")
    args = parser.parse_args()
    print("# failover and bad-network benchmark\n")
    failover(args.seconds)
    lossy(args.requests)
    return 0


if __name__ == "__main__":
    sys.exit(main())
