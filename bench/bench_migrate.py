"""Benchmark ``rms db migrate`` against the floor (server-side COPY) and pgloader.

In one run, on one throwaway PostgreSQL cluster started here, on the same data:

(a) ``rms db migrate`` of the whole file, verification included, as a subprocess (its
    peak RSS from ``getrusage(RUSAGE_CHILDREN)``);
(b) the floor: server-side ``COPY ... FROM 'file.csv'`` of the same, already converted
    rows into the same indexed tables, in one transaction;
(c) pgloader on the same data with the dates pre-converted to text (the only way it loads
    an RMS file at all); skipped, saying so, when pgloader is not installed
    (``apt-get install -y pgloader``); everything else runs without it;
(a') the same with ``--workers 0`` (no worker processes, whatever ``auto`` chose for (a)),
     unless ``--no-serial``: what the workers bring or cost, in the same run;
(d) at the owner's size (``--small-trades``, about 12k rows): the process start that
    dominates there, against ``python -c "import sqlalchemy, psycopg"`` measured in the same
    run: ``rms --help`` and the whole ``rms db migrate`` of the small file, beside the floor
    of any migration on the same libraries (importing them, plus the database's own COPY and
    key building); medians of 5 interleaved rounds (``--small-only`` runs just this part).

    python bench/bench_migrate.py --trades 1000000      # the reference size (200k deposits)
    python -m bench.bench_migrate --trades 100000       # the same, as a module
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import create_engine

try:
    from bench.gen_sqlite import DDL, generate
except ImportError:  # run as a script: python bench/bench_migrate.py
    from gen_sqlite import DDL, generate  # type: ignore[no-redef]
from rms.devtools.pgcluster import running_cluster
from rms.migrate.convert import converter
from rms.migrate.sqlite import open_source, read_schema
from rms.migrate.target import drop_secondary, restore_secondary, secondary_definitions
from rms.schema.migrations import upgrade
from rms.transfer.spec import table_specs

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _iso(ms: int) -> str:
    return (_EPOCH + timedelta(milliseconds=ms)).isoformat(sep=" ", timespec="milliseconds")


def converted_rows(source: Path, table: str) -> tuple[list[str], Any]:
    """(columns, iterator of rows) converted exactly, instants as ISO text in UTC."""
    spec = next(s for s in table_specs() if s.name == table)
    conn = open_source(source)
    found = read_schema(conn, source).find(table)
    if found is None:
        return spec.column_names, iter(())
    present = [c for c in spec.columns if found.find(c.name) is not None]
    converters = [converter(c) for c in present]
    kinds = [c.kind for c in present]
    cols = ", ".join(f'"{c.name}"' for c in present)

    def rows() -> Any:
        for raw in conn.execute(f'SELECT {cols} FROM "{table}"'):
            out = []
            for conv, kind, value in zip(converters, kinds, raw, strict=True):
                v = conv(value)
                if v is not None and kind == "datetime":
                    v = _iso(v)
                elif v is not None and kind == "bool":
                    v = "t" if v else "f"
                out.append(v)
            yield out
        conn.close()

    return [c.name for c in present], rows()


def write_csvs(source: Path, out_dir: Path) -> dict[str, tuple[Path, list[str]]]:
    files = {}
    for spec in table_specs():
        columns, rows = converted_rows(source, spec.name)
        path = out_dir / f"{spec.name}.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)  # floats via repr: exact; NULL written as \N
            writer.writerows([r"\N" if v is None else v for v in row] for row in rows)
        path.chmod(0o644)
        files[spec.name] = (path, columns)
    return files


def write_text_dates_copy(source: Path, out: Path) -> None:
    """The same data with every DateTime as ISO text, for pgloader."""
    conn = sqlite3.connect(out)
    conn.executescript(DDL)
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for spec in table_specs():
        if spec.name not in present:  # our own tables (rms_archive): not in the app's DDL
            continue
        columns, rows = converted_rows(source, spec.name)
        marks = ", ".join("?" for _ in columns)
        cols = ", ".join(f'"{c}"' for c in columns)
        fixed = (
            [1 if v == "t" else 0 if v == "f" else v for v in row] for row in rows
        )  # back to 0/1 as SQLite holds booleans
        conn.executemany(f'INSERT INTO "{spec.name}" ({cols}) VALUES ({marks})', fixed)
    conn.commit()
    conn.close()


def create_db(admin: str, name: str) -> str:
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin.rsplit("/", 1)[0] + f"/{name}"


def bench_rms(
    source: Path, url: str, work: Path, extra: tuple[str, ...] = ()
) -> tuple[float, int, str]:
    report_path = work / "rms-report" / "report.json"
    report_path.unlink(missing_ok=True)
    cmd = [
        sys.executable, "-m", "rms.cli", "db", "migrate", "--from", str(source), "--to", url,
        "--report", str(report_path), *extra,
    ]  # fmt: skip
    started = time.perf_counter()
    env = {**os.environ, "RMS_STATE_DIR": str(work / "state")}
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=work, env=env)
    elapsed = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        raise SystemExit(f"rms db migrate failed:\n{proc.stdout}\n{proc.stderr}")
    report = json.loads(report_path.read_text())
    phases = ", ".join(f"{k} {v:.1f} s" for k, v in report["timings"].items())
    workers = report["options"].get("workers", "?")
    return (
        elapsed,
        peak_kb,
        f"workers {workers}; in-run phases: {phases}; run total {report['seconds']:.1f} s",
    )


def bench_copy(url: str, files: dict[str, tuple[Path, list[str]]]) -> float:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    upgrade(engine)
    engine.dispose()
    with psycopg.connect(url) as conn:
        started = time.perf_counter()
        for spec in table_specs():
            path, columns = files[spec.name]
            cols = ", ".join(f'"{c}"' for c in columns)
            conn.execute(f"COPY \"{spec.name}\" ({cols}) FROM '{path}' (FORMAT csv, NULL '\\N')")
        conn.commit()
        return time.perf_counter() - started


def bare_copy(url: str, files: dict[str, tuple[Path, list[str]]]) -> tuple[float, float]:
    """(b'): seconds of the server-side COPY into bare tables, then of their keys and indexes."""
    from sqlalchemy import create_engine

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    upgrade(engine)
    engine.dispose()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")  # as the run's transaction
        defs = secondary_definitions(cur, [spec.name for spec in table_specs()])
        drop_secondary(cur, defs)
        started = time.perf_counter()
        for spec in table_specs():
            path, columns = files[spec.name]
            cols = ", ".join(f'"{c}"' for c in columns)
            cur.execute(f"COPY \"{spec.name}\" ({cols}) FROM '{path}' (FORMAT csv, NULL '\\N')")
        copied = time.perf_counter()
        restore_secondary(cur, defs)
        keyed = time.perf_counter()
        conn.commit()
    return copied - started, keyed - copied


def bench_pgloader(text_copy: Path, url: str) -> tuple[float | None, str]:
    exe = shutil.which("pgloader")
    if exe is None:
        return None, "pgloader is not installed: (c) skipped (apt-get install -y pgloader)"
    started = time.perf_counter()
    proc = subprocess.run(
        [exe, "--no-ssl-cert-verification", f"sqlite://{text_copy}", url],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    with psycopg.connect(url) as conn:
        loaded = conn.execute(
            "SELECT coalesce(sum(n_live_tup), 0) FROM pg_stat_user_tables"
        ).fetchone()
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
    note = f"exit {proc.returncode}, about {loaded[0] if loaded else '?'} rows visible"
    return elapsed, note + (" | " + " / ".join(tail) if proc.returncode else "")


#: The libraries ``rms db migrate`` cannot start without: its CLI (Typer, Rich), its
#: settings (pydantic-settings), SQLAlchemy with the PostgreSQL dialect it connects through,
#: and psycopg. Importing them is the floor of (d)'s process start, as the minimal app
#: with its libraries is the floor in bench_lambda.py.
LIBRARY_FLOOR = (
    "import typer, rich.console, pydantic_settings, sqlalchemy, "
    "sqlalchemy.dialects.postgresql.psycopg, psycopg"
)


def _seconds(cmd: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, capture_output=True, check=True, env=env)
    return time.perf_counter() - started


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def bench_small(admin: str, work: Path, trades: int, rounds: int = 5) -> list[str]:
    """(d): the owner's size, against importing the two drivers, and against its floor.

    Each round runs, one after the other (so the machine's load hits them alike): the
    baseline ``import sqlalchemy, psycopg``; the library floor (:data:`LIBRARY_FLOOR`);
    ``rms --help``; ``rms db migrate`` of the small file into a new database; and the work
    floor, the database's own share: server-side COPY of the converted rows into bare
    tables, then their keys and indexes (:func:`bare_copy`, creating the schema not counted).
    Medians of ``rounds``; the floor of the whole run is the library floor plus the work
    floor, a lower bound for any migration built on these libraries.
    """
    source = work / "small.db"
    counts = generate(source, trades, trades // 5)
    rows = sum(counts.values())
    csv_dir = work / "small-csv"
    csv_dir.mkdir(exist_ok=True)
    csv_dir.chmod(0o755)
    files = write_csvs(source, csv_dir)
    rms_exe = str(Path(sys.executable).with_name("rms"))
    base, libs, help_, migrate, work_floor = [], [], [], [], []
    for i in range(rounds):
        base.append(_seconds([sys.executable, "-c", "import sqlalchemy, psycopg"]))
        libs.append(_seconds([sys.executable, "-c", LIBRARY_FLOOR]))
        help_.append(_seconds([rms_exe, "--help"]))
        migrate.append(bench_rms(source, create_db(admin, f"bench_small_{i}"), work)[0])
        copy_s, keys_s = bare_copy(create_db(admin, f"bench_small_floor_{i}"), files)
        work_floor.append(copy_s + keys_s)
    b, lib, h, m, w = map(_median, (base, libs, help_, migrate, work_floor))
    floor = lib + w

    def verdict(ratio: float, target: float) -> str:
        return f"target <= {target}: {'met' if ratio <= target else 'MISSED'}"

    return [
        f"(d) owner's size, {rows} rows (medians of {rounds} interleaved rounds):",
        f"    python -c 'import sqlalchemy, psycopg': {b:.3f} s (baseline)",
        f"    library floor ({LIBRARY_FLOOR.removeprefix('import ')}): {lib:.3f} s  x{lib / b:.2f}",
        f"    work floor (server COPY into bare tables + keys): {w:.3f} s",
        f"    floor of a migration on these libraries: {floor:.3f} s  x{floor / b:.2f}",
        f"    rms --help: {h:.3f} s  x{h / b:.2f}  ({verdict(h / b, 1.5)})",
        f"    rms db migrate: {m:.3f} s  x{m / b:.2f}  ({verdict(m / b, 2.5)}); "
        f"x{m / floor:.2f} of the floor",
    ]


def machine() -> str:
    cpu = "?"
    with open("/proc/cpuinfo") as fh:
        for line in fh:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem_gb:.1f} GB RAM, {platform.platform()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=1_000_000)
    parser.add_argument("--deposits", type=int, default=None, help="default: trades / 5")
    parser.add_argument("--source", type=Path, help="use this file instead of generating one")
    parser.add_argument("--no-serial", action="store_true", help="skip (a'): --workers 0")
    parser.add_argument(
        "--small-trades", type=int, default=8_000, help="(d): the owner's size; 0 skips it"
    )
    parser.add_argument("--small-only", action="store_true", help="run only (d), the owner's size")
    args = parser.parse_args()
    if args.small_only:
        main_small(args.small_trades or 8_000)
        return
    deposits = args.deposits if args.deposits is not None else args.trades // 5
    work = Path(tempfile.mkdtemp(prefix="rms-bench-"))
    work.chmod(0o755)  # the server (user postgres) reads the CSV files from here
    print(f"machine: {machine()}")
    print(f"date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    source = args.source or work / "rms.db"
    if args.source is None:
        t = time.perf_counter()
        counts = generate(source, args.trades, deposits)
        print(f"generated {source} {counts} in {time.perf_counter() - t:.1f} s")
    print("preparing CSV (b) and text-dates copy (c) of the same rows ...")
    files = write_csvs(source, work)
    text_copy = work / "text-dates.db"
    write_text_dates_copy(source, text_copy)
    try:
        with running_cluster() as cluster:
            admin = cluster.url().replace("postgresql+psycopg://", "postgresql://")
            a_time, peak_kb, phases = bench_rms(source, create_db(admin, "bench_a"), work)
            print(f"(a) rms db migrate (incl. verification, --workers auto): {a_time:.2f} s")
            print(f"    {phases}")
            if not args.no_serial:
                s_time, _, s_phases = bench_rms(
                    source, create_db(admin, "bench_a_serial"), work, ("--workers", "0")
                )
                print(
                    f"(a') the same, --workers 0: {s_time:.2f} s  (a')/(a) = {s_time / a_time:.2f}"
                )
                print(f"    {s_phases}")
            b_time = bench_copy(create_db(admin, "bench_b"), files)
            print(f"(b) server-side COPY FROM csv, indexed tables: {b_time:.2f} s")
            c_time, note = bench_pgloader(text_copy, create_db(admin, "bench_c"))
            print("(c) pgloader, dates pre-converted: " + (f"{c_time:.2f} s" if c_time else "-"))
            print(f"    {note}")
            small = bench_small(admin, work, args.small_trades) if args.small_trades else []
    finally:
        shutil.rmtree(work, ignore_errors=True)
    peak_mb = peak_kb / 1024
    ratio_ab = a_time / b_time
    print()
    print(f"(a)/(b) = {ratio_ab:.2f}  (target <= 0.8: {'met' if ratio_ab <= 0.8 else 'MISSED'})")
    if c_time:
        ratio_ca = c_time / a_time
        print(
            f"(c)/(a) = {ratio_ca:.2f}  (target >= 1.5, aim 2: "
            f"{'met' if ratio_ca >= 1.5 else 'MISSED'})"
        )
    print(
        f"peak RSS of (a): {peak_mb:.0f} MB  (target < 300: {'met' if peak_mb < 300 else 'MISSED'})"
    )
    for line in small:
        print(line)


def main_small(trades: int) -> None:
    """Only (d): its own cluster and work directory."""
    work = Path(tempfile.mkdtemp(prefix="rms-bench-"))
    work.chmod(0o755)
    print(f"machine: {machine()}")
    print(f"date: {datetime.now(UTC).isoformat(timespec='seconds')}")
    try:
        with running_cluster() as cluster:
            admin = cluster.url().replace("postgresql+psycopg://", "postgresql://")
            lines = bench_small(admin, work, trades)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
