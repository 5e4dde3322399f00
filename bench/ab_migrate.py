"""Interleaved A/B of ``rms db migrate``: two (or more) source trees, one file, one cluster.

Each variant is a directory holding an ``rms`` package tree (``<dir>/src/rms`` or
``<dir>/rms``), for example a ``git archive`` of the commit before a change; ``.`` is this
worktree. The runs alternate (A, B, A, B, ...) on the same generated file and the same
PostgreSQL cluster, so the machine's load hits the variants alike; the script prints every
run's wall time and in-run phases, then the medians and the ratio of each variant to the
first. Timings only: a benchmark, not a test.

    .venv/bin/python bench/ab_migrate.py --trades 200000 --rounds 3 /tmp/base .
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

try:
    from bench.bench_migrate import bench_rms, create_db
    from bench.gen_sqlite import generate
except ImportError:  # run as a script: python bench/ab_migrate.py
    from bench_migrate import bench_rms, create_db  # type: ignore[no-redef]
    from gen_sqlite import generate  # type: ignore[no-redef]
from rms.devtools.pgcluster import running_cluster


def phase_timings(line: str) -> dict[str, float]:
    """The in-run phases of :func:`bench_rms`'s summary line, e.g. ``{"copy": 11.2}``."""
    return {
        part.split()[0]: float(part.split()[1])
        for part in line.split("phases: ")[1].split("; ")[0].split(", ")
    }


def _src(variant: str) -> str:
    root = Path(variant).resolve()
    return str(root / "src") if (root / "src" / "rms").is_dir() else str(root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", help="source trees; the first is the baseline")
    parser.add_argument("--trades", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--source", type=Path, help="use this file instead of generating one")
    parser.add_argument("--workers", default=None, help="pass --workers to every run")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rms-ab-"))
    source = args.source or work / "rms.db"
    if args.source is None:
        counts = generate(source, args.trades, args.trades // 5)
        print(f"generated {counts}")
    extra = ("--workers", args.workers) if args.workers else ()
    walls: dict[str, list[float]] = {v: [] for v in args.variants}
    phases: dict[str, list[dict[str, float]]] = {v: [] for v in args.variants}
    saved = os.environ.get("PYTHONPATH")
    try:
        with running_cluster() as cluster:
            admin = cluster.url().replace("postgresql+psycopg://", "postgresql://")
            for rnd in range(args.rounds):
                for i, variant in enumerate(args.variants):
                    os.environ["PYTHONPATH"] = _src(variant)
                    url = create_db(admin, f"ab_{rnd}_{i}")
                    load = os.getloadavg()[0]
                    elapsed, _, line = bench_rms(source, url, work, extra)
                    walls[variant].append(elapsed)
                    phases[variant].append(phase_timings(line))
                    print(f"round {rnd} {variant}: {elapsed:.2f} s (load {load:.1f}); {line}")
                    sys.stdout.flush()
                    time.sleep(1)
    finally:
        if saved is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = saved
        shutil.rmtree(work, ignore_errors=True)
    base = statistics.median(walls[args.variants[0]])
    for variant in args.variants:
        med = statistics.median(walls[variant])
        per_phase = {
            k: statistics.median(t[k] for t in phases[variant]) for k in phases[variant][0]
        }
        shown = ", ".join(f"{k} {v:.2f} s" for k, v in per_phase.items())
        print(f"median {variant}: {med:.2f} s  x{med / base:.3f} of the first; phases: {shown}")


if __name__ == "__main__":
    main()
