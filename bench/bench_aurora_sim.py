"""How faithfully the Aurora emulator keeps its delays, measured in one run on this machine.

The tests in ``tests/devtools/test_aurora_sim.py`` check states and counts only; the
timings they used to bound live here, as ratios against figures measured in the same run:

1. connect + ``SELECT 1`` through the running emulator / directly to PostgreSQL;
2. time from the last client leaving to ``paused`` / ``pause_after``;
3. time a held connection waits during a resume / ``resume_delay``;
4. time a refusing emulator takes to refuse / a direct connect.

Run: ``.venv/bin/python bench/bench_aurora_sim.py [--rounds 20]``. It starts its own
PostgreSQL cluster; nothing needs to be running.
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg

from rms.devtools.aurora_sim import SimMode, aurora_sim
from rms.devtools.pgcluster import PgCluster

PAUSE_AFTER, RESUME_DELAY = 1.0, 1.5


def dsn(port: int) -> str:
    return f"host=127.0.0.1 port={port} user=postgres dbname=postgres connect_timeout=10"


def select_one(port: int) -> float:
    started = time.perf_counter()
    with psycopg.connect(dsn(port)) as conn:
        conn.execute("SELECT 1")
    return time.perf_counter() - started


def refused_after(port: int) -> float:
    started = time.perf_counter()
    try:
        psycopg.connect(dsn(port)).close()
    except psycopg.OperationalError:
        return time.perf_counter() - started
    raise RuntimeError("the emulator did not refuse")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--cycles", type=int, default=3)
    args = parser.parse_args()
    cluster = PgCluster().start()
    try:
        port = cluster.port
        upstream = ("127.0.0.1", port)
        direct = [select_one(port) for _ in range(args.rounds)]
        with aurora_sim(upstream, pause_after=PAUSE_AFTER, resume_delay=RESUME_DELAY) as sim:
            proxied = [select_one(sim.port) for _ in range(args.rounds)]
            pauses, holds = [], []
            for _ in range(args.cycles):
                select_one(sim.port)
                left = time.perf_counter()
                sim.wait_for(lambda s: s.state == "paused", PAUSE_AFTER + 10, interval=0.005)
                pauses.append(time.perf_counter() - left)
                holds.append(select_one(sim.port))
        with aurora_sim(
            upstream, pause_after=PAUSE_AFTER, resume_delay=RESUME_DELAY, mode=SimMode.REFUSE
        ) as sim:
            refusals = []
            for _ in range(args.cycles):
                sim.wait_for(lambda s: s.state == "paused", PAUSE_AFTER + 10, interval=0.005)
                refusals.append(refused_after(sim.port))
                sim.wait_for(lambda s: s.state == "running", RESUME_DELAY + 10, interval=0.005)
    finally:
        cluster.stop()

    base = statistics.median(direct)
    print(f"# aurora-sim benchmark, {args.rounds} rounds, {args.cycles} cycles")
    print(f"direct connect + SELECT 1, median      {base * 1000:8.1f} ms (baseline)")
    through = statistics.median(proxied)
    print(f"through the running emulator, median   {through * 1000:8.1f} ms  x{through / base:.2f}")
    for label, values, unit in (
        ("last client gone -> paused", pauses, PAUSE_AFTER),
        ("held connect during a resume", holds, RESUME_DELAY),
    ):
        worst = max(values)
        print(f"{label:<38} {worst:8.3f} s   x{worst / unit:.2f} of the configured delay (worst)")
    refused = max(refusals)
    print(f"refused while resuming (worst)         {refused * 1000:8.1f} ms  x{refused / base:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
