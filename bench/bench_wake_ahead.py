"""The first page of the day: from the sign-in page to the dashboard, with and without waking
the database ahead (issue 30), in front of the Aurora emulator, in one run.

Each round: the emulator pauses (nothing open, the pause delay passed); the owner opens
``/`` (sent to the sign-in page), spends ``--think`` seconds typing the token, signs in and
is sent to the dashboard, which needs the database (the session's row, the month's figures).
A waking page (503) is reloaded after its ``Retry-After``, as a browser does. Printed, as
ratios against the emulator's resume time measured in the same run (a plain connect
through the paused emulator): the time from the first page view to the dashboard with data,
and the part of it the owner waits after signing in (that time less the thinking).

Run: ``.venv/bin/python bench/bench_wake_ahead.py [--rounds 3] [--resume 4] [--think 3]``.
It starts its own PostgreSQL cluster and runs the emulator of ``rms dev aurora-sim`` in
process (the same core, :class:`rms.devtools.aurora_sim.AuroraSim`); nothing needs to be
running.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import psycopg
from fastapi.testclient import TestClient

from rms.app import create_app
from rms.db.engine import create_db_engine
from rms.devtools.aurora_sim import AuroraSim, aurora_sim
from rms.devtools.pgcluster import PgCluster
from rms.schema.migrations import upgrade
from rms.settings import load_settings

PAUSE_AFTER = 1.0
TOKEN = "bench-wake-ahead-token-0123456789"
BROWSER = {"Accept": "text/html"}


def resume_seconds(sim: AuroraSim) -> float:
    """One plain connect + ``SELECT 1`` through the paused emulator."""
    sim.wait_for_state("paused", timeout=30)
    started = time.perf_counter()
    dsn = f"host=127.0.0.1 port={sim.port} user=postgres dbname=postgres connect_timeout=30"
    with psycopg.connect(dsn) as conn:
        conn.execute("SELECT 1")
    return time.perf_counter() - started


def first_page_of_the_day(
    sim: AuroraSim, url: str, state: Path, *, wake: bool, think: float
) -> float:
    settings = load_settings(
        database_url=url,
        db_auto_pause_seconds=PAUSE_AFTER,
        db_wake_ahead=wake,
        db_idle_release_seconds=0.5,
        db_cold_start_budget_seconds=30,
        db_retry_initial_backoff_seconds=0.05,
        db_retry_max_backoff_seconds=0.5,
        reference_cache_ttl_seconds=0,
        rms_api_token=TOKEN,
        rms_state_dir=state,
    )
    app = create_app(settings)
    with TestClient(app, base_url="http://localhost", follow_redirects=False) as client:
        sim.wait_for_state("paused", timeout=30)
        time.sleep(0.2)  # the pause delay has passed since the service last saw it too
        started = time.perf_counter()
        login = client.get("/", headers=BROWSER)
        assert login.status_code == 303, login.status_code
        assert client.get(login.headers["location"], headers=BROWSER).status_code == 200
        time.sleep(think)  # the owner types the token
        signed = client.post("/auth/token", data={"token": TOKEN, "next": "/"}, headers=BROWSER)
        assert signed.status_code in (200, 303), signed.text
        page = client.get("/", headers=BROWSER)
        while page.status_code == 503:  # the waking page: reload after Retry-After
            time.sleep(float(page.headers.get("retry-after", "3")))
            page = client.get("/", headers=BROWSER)
        assert page.status_code == 200, page.status_code
        return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--resume", type=float, default=4.0, help="emulated resume, s")
    parser.add_argument("--think", type=float, default=3.0, help="time on the sign-in page, s")
    args = parser.parse_args()
    cluster = PgCluster().start()
    try:
        direct = cluster.url()
        engine = create_db_engine(load_settings(database_url=direct))
        upgrade(engine)
        engine.dispose()
        with (
            TemporaryDirectory() as state,
            aurora_sim(direct, pause_after=PAUSE_AFTER, resume_delay=args.resume) as sim,
        ):
            url = sim.proxied_url(direct)
            resumes: list[float] = []
            runs: dict[bool, list[float]] = {True: [], False: []}
            for _ in range(args.rounds):
                resumes.append(resume_seconds(sim))
                for wake in (False, True):
                    runs[wake].append(
                        first_page_of_the_day(sim, url, Path(state), wake=wake, think=args.think)
                    )
            summary = sim.state()
    finally:
        cluster.stop()
    resume = statistics.median(resumes)
    print(f"# wake-ahead benchmark, {args.rounds} rounds, think {args.think:g} s")
    print(f"emulator resume (connect through a paused emulator): {resume:.2f} s median")
    print(f"emulator pauses {summary.pauses}, resumes {summary.resumes}")
    print("mode           first page -> dashboard   /resume   wait after sign-in   /resume")
    for wake in (False, True):
        total = statistics.median(runs[wake])
        after = max(total - args.think, 0.0)
        name = "wake-ahead" if wake else "no wake-ahead"
        print(
            f"{name:<14} {total:>9.2f} s {'':>12} {total / resume:>5.2f}x"
            f" {after:>12.2f} s {'':>6} {after / resume:>5.2f}x"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
