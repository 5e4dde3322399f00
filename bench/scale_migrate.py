"""How ``rms db migrate`` and pgloader scale with cores: the same file on one core and on two.

Issue 31 asks, where a speed target stays out of reach on this 2-core machine, what each
phase would take with more cores. This runs, on one generated (or given) file and one
PostgreSQL cluster, (a) ``rms db migrate``; (b') the floor of its copy and keys phases:
server-side ``COPY ... FROM 'file.csv'`` of the already converted rows into the tables with
their keys, indexes and foreign keys dropped, then those recreated, in one transaction; and
(c) pgloader (when installed). Every process involved is pinned to each CPU set in turn
(``--cpus 0 0-1``: core 0 alone, then both): the benchmark process pins itself before
starting a child (children inherit the mask), and pins the cluster's postmaster and its
processes (new backends are forked from the postmaster and inherit it too). Rounds
alternate the CPU sets, so the machine's load hits them alike. It prints each run, then per
CPU set the median wall time, the median of each in-run phase of (a), the floor's two
phases and (c)/(a); last, each phase's speed-up from the first set to the last. Timings
only: a benchmark, not a test.

    .venv/bin/python bench/scale_migrate.py --trades 1000000 --rounds 2
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
    from bench.ab_migrate import phase_timings
    from bench.bench_migrate import (
        bare_copy,
        bench_pgloader,
        bench_rms,
        create_db,
        write_csvs,
        write_text_dates_copy,
    )
    from bench.gen_sqlite import generate
except ImportError:  # run as a script: python bench/scale_migrate.py
    from ab_migrate import phase_timings  # type: ignore[no-redef]
    from bench_migrate import (  # type: ignore[no-redef]
        bare_copy,
        bench_pgloader,
        bench_rms,
        create_db,
        write_csvs,
        write_text_dates_copy,
    )
    from gen_sqlite import generate  # type: ignore[no-redef]
from rms.devtools.pgcluster import PgCluster, running_cluster


def parse_cpus(text: str) -> set[int]:
    """``0``, ``0-1`` or ``0,2``: a CPU set as ``taskset -c`` writes it."""
    cpus: set[int] = set()
    for part in text.split(","):
        low, _, high = part.partition("-")
        cpus.update(range(int(low), int(high or low) + 1))
    return cpus


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def pin_cluster(cluster: PgCluster, cpus: set[int]) -> None:
    """The postmaster and its processes on ``cpus``; backends forked later inherit it."""
    postmaster = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
    for pid in [postmaster, *_children(postmaster)]:
        try:
            os.sched_setaffinity(pid, cpus)
        except ProcessLookupError:
            continue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--source", type=Path, help="use this file instead of generating one")
    parser.add_argument("--cpus", nargs="+", default=["0", "0-1"], help="CPU sets, in order")
    parser.add_argument("--no-pgloader", action="store_true", help="skip (c)")
    args = parser.parse_args()
    sets = {text: parse_cpus(text) for text in args.cpus}
    everything = os.sched_getaffinity(0)
    work = Path(tempfile.mkdtemp(prefix="rms-scale-"))
    work.chmod(0o755)
    source = args.source or work / "rms.db"
    if args.source is None:
        print(f"generated {generate(source, args.trades, args.trades // 5)}")
    text_copy = work / "text-dates.db"
    pgloader = not args.no_pgloader and shutil.which("pgloader") is not None
    if pgloader:
        write_text_dates_copy(source, text_copy)
    walls: dict[str, list[float]] = {text: [] for text in sets}
    loader: dict[str, list[float]] = {text: [] for text in sets}
    floor: dict[str, list[tuple[float, float]]] = {text: [] for text in sets}
    print("preparing CSV files for (b') ...")
    files = write_csvs(source, work)
    phases: dict[str, list[dict[str, float]]] = {text: [] for text in sets}
    try:
        with running_cluster() as cluster:
            admin = cluster.url().replace("postgresql+psycopg://", "postgresql://")
            for rnd in range(args.rounds):
                for text, cpus in sets.items():
                    url = create_db(admin, f"scale_a_{rnd}_{text.replace('-', '_')}")
                    pin_cluster(cluster, cpus)
                    os.sched_setaffinity(0, cpus)
                    try:
                        elapsed, _, line = bench_rms(source, url, work)
                        walls[text].append(elapsed)
                        phases[text].append(phase_timings(line))
                        print(f"round {rnd} cpus {text}: (a) {elapsed:.2f} s; {line}")
                        url = create_db(admin, f"scale_b_{rnd}_{text.replace('-', '_')}")
                        copy_s, keys_s = bare_copy(url, files)
                        floor[text].append((copy_s, keys_s))
                        floor_line = f"(b') copy {copy_s:.2f} s, keys {keys_s:.2f} s"
                        print(f"round {rnd} cpus {text}: {floor_line}")
                        if pgloader:
                            url = create_db(admin, f"scale_c_{rnd}_{text.replace('-', '_')}")
                            seconds, note = bench_pgloader(text_copy, url)
                            assert seconds is not None
                            loader[text].append(seconds)
                            print(f"round {rnd} cpus {text}: (c) {seconds:.2f} s; {note}")
                    finally:
                        os.sched_setaffinity(0, everything)
                        pin_cluster(cluster, everything)
                    sys.stdout.flush()
                    time.sleep(1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    medians: dict[str, dict[str, float]] = {}
    for text in sets:
        wall = statistics.median(walls[text])
        medians[text] = {
            key: statistics.median(run[key] for run in phases[text]) for key in phases[text][0]
        }
        shown = ", ".join(f"{k} {v:.2f} s" for k, v in medians[text].items())
        copy_floor = statistics.median(c for c, _ in floor[text])
        keys_floor = statistics.median(k for _, k in floor[text])
        line = f"cpus {text}: (a) {wall:.2f} s; phases: {shown}; (b') copy {copy_floor:.2f} s, "
        line += f"keys {keys_floor:.2f} s"
        if loader[text]:
            line += f"; (c) {statistics.median(loader[text]):.2f} s, (c)/(a) = "
            line += f"{statistics.median(loader[text]) / wall:.2f}"
        print(line)
    first, last = args.cpus[0], args.cpus[-1]
    if first != last:
        speedups = [f"wall x{statistics.median(walls[first]) / statistics.median(walls[last]):.2f}"]
        for key, seconds in medians[first].items():
            if medians[last].get(key):
                speedups.append(f"{key} x{seconds / medians[last][key]:.2f}")
        for index, name in ((0, "(b') copy"), (1, "(b') keys")):
            before = statistics.median(run[index] for run in floor[first])
            after = statistics.median(run[index] for run in floor[last])
            speedups.append(f"{name} x{before / after:.2f}")
        if loader[first] and loader[last]:
            ratio = statistics.median(loader[first]) / statistics.median(loader[last])
            speedups.append(f"pgloader x{ratio:.2f}")
        print(f"speed-up from cpus {first} to cpus {last}: " + ", ".join(speedups))


if __name__ == "__main__":
    main()
