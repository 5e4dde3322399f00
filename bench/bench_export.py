"""Benchmark ``rms db export`` against ``pg_dump`` of the same database, in the same run.

One throwaway PostgreSQL cluster started here; an RMS SQLite file generated
(``bench/gen_sqlite.py``) and migrated into it with ``rms db migrate``; then, on that one
database, each measured as the user would run it (a subprocess, wall time):

(a) ``rms db export --to FILE``: snapshot, SQLite file with indexes, verification on both
    sides (checksums, foreign keys, integrity), fsync and rename; its peak RSS;
(b) ``pg_dump --format=plain`` of the same database to a file (the baseline: everything
    out of PostgreSQL, no verification, no indexes built);
(c) ``pg_dump --format=custom`` (compressed), for reference.

Printed: the times, the export's own phases (from its report), and the ratios (a)/(b) and
(a)/(c). ``--repeat N`` takes the best of N runs of each.

    python bench/bench_export.py --trades 1000000        # the reference size (200k deposits)
    python -m bench.bench_export --trades 100000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg

try:
    from bench.gen_sqlite import generate
except ImportError:  # run as a script: python bench/bench_export.py
    from gen_sqlite import generate  # type: ignore[no-redef]
from rms.devtools.pgcluster import find_pg_bin, running_cluster


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _run(cmd: list[str], env: dict[str, str], what: str) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{what} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def bench_export(url: str, work: Path, run: int) -> tuple[float, dict[str, float], int]:
    target = work / f"export-{run}.db"
    report = work / f"export-{run}.json"
    env = {**os.environ, "RMS_STATE_DIR": str(work / "state"), "DATABASE_URL": url}
    cmd = [
        sys.executable,
        "-m",
        "rms.cli",
        "db",
        "export",
        "--to",
        str(target),
        "--report",
        str(report),
    ]
    elapsed = _run(cmd, env, "rms db export")
    phases = json.loads(report.read_text())["timings"]
    size = target.stat().st_size
    target.unlink()
    return elapsed, phases, size


def bench_pg_dump(url: str, work: Path, fmt: str, run: int) -> tuple[float, int]:
    out = work / f"dump-{run}.{fmt}"
    cmd = [str(find_pg_bin() / "pg_dump"), f"--format={fmt}", "--file", str(out), _libpq(url)]
    elapsed = _run(cmd, dict(os.environ), f"pg_dump --format={fmt}")
    size = out.stat().st_size
    out.unlink()
    return elapsed, size


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=1_000_000)
    parser.add_argument("--deposits", type=int, default=None, help="default: trades / 5")
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs of each")
    args = parser.parse_args()
    deposits = args.deposits if args.deposits is not None else args.trades // 5
    print(f"machine: {machine()}")
    print(f"date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    with (
        tempfile.TemporaryDirectory(prefix="rms-bench-export-") as tmp,
        running_cluster() as cluster,
    ):
        work = Path(tmp)
        source = work / "rms.db"
        started = time.perf_counter()
        counts = generate(source, trades=args.trades, deposits=deposits)
        print(f"generated {counts} in {time.perf_counter() - started:.1f} s")
        with psycopg.connect(_libpq(cluster.url()), autocommit=True) as conn:
            conn.execute('CREATE DATABASE "bench"')
        url = cluster.url("bench")
        env = {**os.environ, "RMS_STATE_DIR": str(work / "state")}
        seconds = _run(
            [sys.executable, "-m", "rms.cli", "db", "migrate", "--from", str(source), "--to", url],
            env,
            "rms db migrate",
        )
        print(f"migrated into PostgreSQL in {seconds:.1f} s")
        with psycopg.connect(_libpq(url), autocommit=True) as conn:
            conn.execute("VACUUM ANALYZE")
        source.unlink()
        exports, plains, customs = [], [], []
        for run in range(args.repeat):
            exports.append(bench_export(url, work, run))
            plains.append(bench_pg_dump(url, work, "plain", run))
            customs.append(bench_pg_dump(url, work, "custom", run))
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    a, phases, a_size = min(exports, key=lambda r: r[0])
    b, b_size = min(plains)
    c, c_size = min(customs)
    rows = sum(counts.values())
    print(f"(a) rms db export: {a:.2f} s ({rows / a:,.0f} rows/s), file {a_size / 1e6:.0f} MB")
    print("    in-run phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()))
    print(f"(b) pg_dump --format=plain: {b:.2f} s, {b_size / 1e6:.0f} MB")
    print(f"(c) pg_dump --format=custom: {c:.2f} s, {c_size / 1e6:.0f} MB")
    print(f"peak RSS of the children (largest): {peak_mb:.0f} MB")
    print()
    print(f"(a)/(b) = {a / b:.2f}")
    print(f"(a)/(c) = {a / c:.2f}")


if __name__ == "__main__":
    main()
