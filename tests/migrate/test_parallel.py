"""Big tables converted by worker processes: the same rows, checksums, problems and faults.

Small thresholds (``parallel_min_rows``, ``CHUNK_ROWS``) put a 20k-row file on the parallel
path with many chunks; each run is compared with the one-process run of the same file.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
from contextlib import closing
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from rms.errors import RmsError
from rms.migrate import BadDataError, MigrateOptions, MigrationObserver, preflight, run_migration
from rms.migrate import parallel as parallel_module
from rms.migrate.report import MigrationReport
from rms.transfer.sqlite import file_sha256
from tests.migrate.conftest import target_state
from tests.migrate.test_migrate import assert_every_value_equal

# Worker processes for every run: the parallel copy's own module (make test-fast leaves it out).
pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel_module, "CHUNK_ROWS", 1500)


class _Chunks(MigrationObserver):
    def __init__(self) -> None:
        self.advanced: dict[str, int] = {}

    def table_advanced(self, table: str, rows: int) -> None:
        self.advanced[table] = self.advanced.get(table, 0) + rows


def _run(source: Path, url: str, path: Path, workers: int, **extra: Any) -> MigrationReport:
    options = MigrateOptions(
        report_path=path / "report.json", workers=workers, parallel_min_rows=1000, **extra
    )
    return run_migration(preflight(source, url, options), options)


def _summary(report: MigrationReport) -> dict[str, Any]:
    return {
        name: (t.read, t.loaded, t.quarantined, t.source_checksum, t.target_checksum, t.verified)
        for name, t in report.tables.items()
    }


def test_parallel_run_equals_the_serial_run(
    generated_20k: Path, create_pg_database: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    converted: list[tuple[str, int]] = []
    chunks = parallel_module.ConverterPool.chunks

    def counting(self: Any, table: str, *args: Any) -> Any:
        for chunk in chunks(self, table, *args):
            converted.append((table, chunk.rows))
            yield chunk

    monkeypatch.setattr(parallel_module.ConverterPool, "chunks", counting)
    serial_url, parallel_url = create_pg_database(), create_pg_database()
    serial = _run(generated_20k, serial_url, tmp_path / "s", workers=0)
    observer = _Chunks()
    parallel = _run(generated_20k, parallel_url, tmp_path / "p", workers=2, observer=observer)
    assert parallel.status == serial.status == "committed"
    assert _summary(parallel) == _summary(serial)
    assert observer.advanced["trades"] == parallel.tables["trades"].read == 20_000
    by_workers = sum(rows for table, rows in converted if table == "trades")
    assert by_workers == 20_000 and len([t for t, _ in converted if t == "trades"]) > 10
    assert assert_every_value_equal(generated_20k, parallel_url) > 20_000 * 12
    assert multiprocessing.active_children() == []


def _with_bad_trade(source: Path, tmp_path: Path, rowid: int) -> Path:
    copy = tmp_path / "bad.db"
    copy.write_bytes(source.read_bytes())
    conn = sqlite3.connect(copy)
    conn.execute("UPDATE trades SET buy = 'n/a' WHERE rowid = ?", (rowid,))
    conn.commit()
    conn.close()
    return copy


@pytest.mark.parametrize("on_error", ["quarantine", "abort"])
def test_a_bad_row_in_a_middle_chunk_is_judged_as_in_one_process(
    on_error: str, generated_20k: Path, create_pg_database: Any, tmp_path: Path
) -> None:
    source = _with_bad_trade(generated_20k, tmp_path, 7777)
    outcomes: list[tuple[dict[str, Any], list[Any]]] = []
    for workers in (0, 2):
        url = create_pg_database()
        before = target_state(url)
        try:
            report = _run(source, url, tmp_path / str(workers), workers, on_error=on_error)
            outcomes.append((_summary(report), [p.to_dict() for p in report.problems]))
        except BadDataError as exc:
            assert target_state(url) == before
            outcomes.append(({}, [(p.table, p.row_id, p.column, p.reason) for p in exc.problems]))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][1], "the bad row was reported"


class _CutAfterChunks(MigrationObserver):
    """Raises in the middle of the parallel trades COPY (Ctrl-C, or a lost connection)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error
        self.seen = 0

    def event(self, name: str) -> None:
        if name == "rows:trades":
            self.seen += 1
            if self.seen == 3:
                raise self.error


@pytest.mark.parametrize("error", [KeyboardInterrupt(), RmsError("cut")])
def test_an_interruption_during_the_parallel_copy_leaves_the_target_unchanged(
    error: BaseException, generated_20k: Path, pg_url: str, tmp_path: Path
) -> None:
    before = target_state(pg_url)
    sha = file_sha256(generated_20k)
    with pytest.raises(type(error)):
        _run(generated_20k, pg_url, tmp_path / "cut", 2, observer=_CutAfterChunks(error))
    assert multiprocessing.active_children() == []  # no converter left behind
    assert target_state(pg_url) == before
    assert file_sha256(generated_20k) == sha
    report = _run(generated_20k, pg_url, tmp_path / "rerun", 2)
    assert report.status == "committed"
    assert all(t.verified for t in report.tables.values())


def test_a_chunk_converts_like_the_row_function_and_gives_up_on_a_bad_row(
    generated_20k: Path, tmp_path: Path
) -> None:
    """The worker's function, called in this process: its bytes, digest and ids are those
    of the row function row by row; a chunk holding a bad value comes back empty."""
    from rms.migrate.fastpath import row_function
    from rms.transfer.spec import table_specs

    spec = next(s for s in table_specs() if s.name == "trades")
    select = [f'"{c}"' for c in spec.column_names]
    refs: dict[str, set[Any]] = {}
    chunk = parallel_module._convert_chunk(
        str(generated_20k), "trades", select, '"trades"', refs, True, 100, 600
    )
    convert_row = row_function(spec, refs)
    conn = sqlite3.connect(f"file:{generated_20k}?mode=ro", uri=True)
    rows = conn.execute(
        f"SELECT rowid, {', '.join(select)} FROM trades WHERE rowid > 100 AND rowid <= 600 "
        "ORDER BY rowid"
    ).fetchall()
    conn.close()
    expected = [convert_row(r) for r in rows]
    assert chunk.rows == len(rows) == 500
    assert chunk.data == b"".join(e[0] for e in expected)
    assert chunk.total == sum(e[1] for e in expected)
    assert chunk.ids == [e[2][spec.column_names.index(spec.pk)] for e in expected]

    bad = _with_bad_trade(generated_20k, tmp_path, 300)
    given_up = parallel_module._convert_chunk(
        str(bad), "trades", select, '"trades"', refs, False, 100, 600
    )
    assert given_up.data is None and given_up.rows == 0
    with closing(sqlite3.connect(bad)) as conn:
        ranges = parallel_module.chunk_ranges(conn, '"trades"', 20_000)
    assert ranges[0][0] == 0 and ranges[-1][1] == 20_000
    assert all(a[1] == b[0] for a, b in pairwise(ranges))


@pytest.mark.parametrize(
    ("idle", "cpus", "expected"),
    [(0.3, 2, 0), (1.2, 2, 0), (1.8, 2, 2), (2.0, 2, 2), (3.9, 8, 4), (7.9, 8, 4), (2.5, 4, 2)],
)
def test_auto_uses_workers_only_when_two_cpus_are_idle(
    idle: float, cpus: int, expected: int
) -> None:
    assert parallel_module.workers_for(idle, cpus) == expected


def test_idle_cores_reads_proc_stat_and_falls_back_to_the_load_average(tmp_path: Path) -> None:
    cpus = multiprocessing.cpu_count()
    measured = parallel_module.idle_cores(0.05)
    assert 0.0 <= measured <= cpus + 0.01
    stat = tmp_path / "stat"
    stat.write_text("cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 100 0 50 800 50 0 0 0 0 0\n")
    assert parallel_module._cpu_times(stat) == (850, 1000)
    assert parallel_module.idle_cores(0.0, stat, {0}) == 0.0  # no time passed between the reads
    missing = parallel_module.idle_cores(0.0, tmp_path / "absent")
    assert missing == pytest.approx(max(0.0, cpus - os.getloadavg()[0]), abs=0.5)


def test_idle_cores_counts_only_the_cpus_the_process_may_use(tmp_path: Path) -> None:
    stat = tmp_path / "stat"
    stat.write_text(
        "cpu  300 0 0 1700 0 0 0 0 0 0\n"
        "cpu0 100 0 0 900 0 0 0 0 0 0\n"
        "cpu1 200 0 0 800 0 0 0 0 0 0\n"
        "intr 1 2 3\n"
    )
    assert parallel_module._cpu_times(stat, {1}) == (800, 1000)
    assert parallel_module._cpu_times(stat, {0, 1}) == parallel_module._cpu_times(stat)
    with pytest.raises(ValueError, match="no line for CPUs"):
        parallel_module._cpu_times(stat, {7})
    # pinned to one core (taskset -c 0): however idle, one CPU is no room for workers
    assert parallel_module.idle_cores(0.0, stat, {0}) == 0.0  # no time passed
    allowed = parallel_module.usable_cpus()
    if allowed is not None:
        assert allowed <= set(range(os.cpu_count() or 1))
        measured = parallel_module.idle_cores(0.05, cpus={min(allowed)})
        assert 0.0 <= measured <= 1.01


def test_auto_workers_goes_by_the_cpus_of_the_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel_module, "idle_cores", lambda **_: 1.0)  # one idle CPU of the set
    monkeypatch.setattr(parallel_module, "usable_cpus", lambda: {0})
    assert parallel_module.auto_workers() == 0
    monkeypatch.setattr(parallel_module, "idle_cores", lambda **_: 2.0)
    monkeypatch.setattr(parallel_module, "usable_cpus", lambda: {0, 1})
    assert parallel_module.auto_workers() == 2


def test_the_chosen_worker_count_is_in_the_report(
    generated_20k: Path, create_pg_database: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel_module, "idle_cores", lambda **_: 0.4)
    options = MigrateOptions(report_path=tmp_path / "r.json", parallel_min_rows=1000)
    report = run_migration(preflight(generated_20k, create_pg_database(), options), options)
    assert report.options["workers"] == 0
    small = MigrateOptions(report_path=tmp_path / "s.json", workers=3)
    report = run_migration(preflight(generated_20k, create_pg_database(), small), small)
    assert report.options["workers"] == 0  # no table of 100,000 rows: nobody to help
