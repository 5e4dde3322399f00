"""A source still being written never gives a committed run with rows missing.

Another *process* writes to the SQLite file (as the application would), in rollback-journal
and in WAL mode: once at a chosen point of the run (deterministic), and continuously while
runs are repeated (the race as it happens). Every such run must fail saying the application
is still writing, with the target unchanged; with the writer stopped, the same file migrates
and the target holds every row.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rms.migrate import (
    MigrateOptions,
    MigrationObserver,
    SourceChangedError,
    preflight,
    run_migration,
)
from tests.migrate.conftest import target_state, write_source

MODES = ["delete", "wal"]

_INSERT = (
    'INSERT INTO trades (id, "universeId", "accountId", buy, sell, buy_date, quantity, '
    '"createdAt", "updatedAt", "deletedAt", version) VALUES '
    "(?, 'u-1', 'acc-1', 1.5, 2.5, 1704067200000, 1, 1704067200000, 1704067200000, NULL, 1)"
)

#: Inserts one trade (as the application would), committed, in a separate process.
WRITE_ONE = f"""
import sqlite3, sys, uuid
conn = sqlite3.connect(sys.argv[1], timeout=10)
conn.execute({_INSERT!r}, ("w-" + uuid.uuid4().hex,))
conn.commit()
"""

#: Keeps inserting trades, a commit every few milliseconds, until the file argv[2] exists.
WRITE_UNTIL_STOPPED = f"""
import os, sqlite3, sys, time, uuid
conn = sqlite3.connect(sys.argv[1], timeout=10)
while not os.path.exists(sys.argv[2]):
    conn.execute({_INSERT!r}, ("w-" + uuid.uuid4().hex,))
    conn.commit()
    time.sleep(0.003)
"""

#: Dies in the middle of a write transaction, leaving a hot rollback journal behind.
DIE_MID_WRITE = f"""
import os, sqlite3, sys, uuid
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA cache_size = 1")
conn.execute("BEGIN")
for _ in range(2000):
    conn.execute({_INSERT!r}, ("w-" + uuid.uuid4().hex,))
os._exit(0)
"""


def _source(tmp_path: Path, mode: str) -> Path:
    path = write_source(tmp_path / f"live-{mode}.db")
    conn = sqlite3.connect(path)
    assert conn.execute(f"PRAGMA journal_mode = {mode}").fetchone()[0] == mode
    conn.close()
    return path


def _trades(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        (count,) = conn.execute("SELECT count(*) FROM trades").fetchone()
        return int(count)
    finally:
        conn.close()


def _write_one(path: Path) -> None:
    subprocess.run([sys.executable, "-c", WRITE_ONE, str(path)], check=True, timeout=60)


class _WriteAt(MigrationObserver):
    def __init__(self, path: Path, at: str) -> None:
        self.path, self.at, self.fired = path, at, False

    def event(self, name: str) -> None:
        if name == self.at and not self.fired:
            self.fired = True
            _write_one(self.path)


def _options(tmp_path: Path, name: str, **kw: object) -> MigrateOptions:
    return MigrateOptions(report_path=tmp_path / name / "report.json", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("at", ["backup-done", "table-start:trades", "verify", "before-commit"])
def test_a_write_during_the_run_stops_it(mode: str, at: str, pg_url: str, tmp_path: Path) -> None:
    source = _source(tmp_path, mode)
    before = target_state(pg_url)
    writer = _WriteAt(source, at)
    options = _options(tmp_path, "run", observer=writer)
    plan = preflight(source, pg_url, options)
    with pytest.raises(SourceChangedError) as caught:
        run_migration(plan, options)
    assert writer.fired
    assert "the application is still writing to it" in str(caught.value)
    assert "nothing was written to the target" in str(caught.value)
    assert target_state(pg_url) == before
    # With the writer gone the same file migrates, and every row is there.
    report = run_migration(
        preflight(source, pg_url, _options(tmp_path, "again")), _options(tmp_path, "again")
    )
    assert report.status == "committed"
    assert report.tables["trades"].loaded == _trades(source) == 6


@pytest.mark.parametrize("mode", MODES)
def test_a_write_between_preflight_and_backup_stops_it(
    mode: str, pg_url: str, tmp_path: Path
) -> None:
    source = _source(tmp_path, mode)
    options = _options(tmp_path, "run")
    plan = preflight(source, pg_url, options)
    _write_one(source)
    before = target_state(pg_url)
    with pytest.raises(SourceChangedError, match="between the preflight and the backup"):
        run_migration(plan, options)
    assert target_state(pg_url) == before


class _Writer:
    """A process writing to the source until :meth:`stop` (it finishes its transaction)."""

    def __init__(self, path: Path, flag: Path) -> None:
        self.flag = flag
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WRITE_UNTIL_STOPPED, str(path), str(flag)]
        )
        deadline = time.monotonic() + 30
        first = _trades(path)
        while _trades(path) == first:  # it is writing
            assert self.proc.poll() is None, "the writer died"
            assert time.monotonic() < deadline, "the writer never wrote"
            time.sleep(0.01)

    def stop(self) -> None:
        self.flag.touch()
        assert self.proc.wait(timeout=30) == 0


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[Callable[[Path], _Writer]]:
    started: list[_Writer] = []

    def start(path: Path) -> _Writer:
        started.append(_Writer(path, tmp_path / f"stop-{len(started)}"))
        return started[-1]

    yield start
    for w in started:
        w.flag.touch()
        if w.proc.wait(timeout=30) is None:  # pragma: no cover - it always stops
            w.proc.kill()


RUNS = 4


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_runs_against_a_busy_writer_never_commit_with_rows_missing(
    mode: str,
    pg_url: str,
    tmp_path: Path,
    writer: Callable[[Path], _Writer],
) -> None:
    """Repeated runs while a process commits every few ms: from before the run (so the
    preflight and the backup already disagree), and from right after the backup (so only
    the watch on the live file can notice). None may commit; the target stays as it was."""

    def _start_at(point: str, started: list[_Writer]) -> Callable[[str], None]:
        def event(name: str) -> None:
            if name == point:
                started.append(writer(source))  # returns once it has committed a row

        return event

    from rms.clikit import Hooks
    from tests.rms_cli import run_rms

    source = _source(tmp_path, mode)
    before = target_state(pg_url)
    command = ("db", "migrate", "--from", str(source), "--to", pg_url)
    for attempt in range(RUNS):
        busy = writer(source)  # writing before the run starts
        written_before = _trades(source)
        result = run_rms(*command)
        assert _trades(source) > written_before, "the writer must write during every run"
        assert result.exit_code == 2, f"run {attempt}: {result.exit_code} {result.stderr}"
        assert "still writing" in result.stderr, result.stderr
        busy.stop()
        late: list[_Writer] = []
        result = run_rms(*command, hooks=Hooks(migration_events=_start_at("locked", late)))
        assert late, "the late writer never started"
        late[0].stop()
        assert result.exit_code == 2, f"run {attempt} (late): {result.exit_code} {result.stderr}"
        assert "was written to during the run" in result.stderr, result.stderr
        assert target_state(pg_url) == before
    result = run_rms(*command)
    assert result.exit_code == 0, result.stderr
    assert target_state(pg_url)["counts"]["public.trades"] == _trades(source)


def test_a_hot_journal_is_named_with_the_way_out(
    pg_url: str, tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    """A writer that died mid-write leaves a hot journal a read-only reader cannot undo."""
    source = _source(tmp_path, "delete")
    subprocess.run([sys.executable, "-c", DIE_MID_WRITE, str(source)], check=True, timeout=60)
    assert Path(f"{source}-journal").stat().st_size > 0
    before = target_state(pg_url)
    code, _out, err = run_cli("db", "migrate", "--from", str(source), "--to", pg_url)
    assert code == 2
    assert "has a hot journal" in err and "PRAGMA quick_check" in err, err
    assert target_state(pg_url) == before
    sqlite3.connect(source).execute("PRAGMA quick_check").fetchall()  # what the message says
    code, _out, err = run_cli("db", "migrate", "--from", str(source), "--to", pg_url)
    assert code == 0, err
    assert target_state(pg_url)["counts"]["public.trades"] == 5
