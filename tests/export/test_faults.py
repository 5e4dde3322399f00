"""Faults during an export leave nothing at the target path and no temporary file, and a
rerun succeeds; an export while the service writes is one consistent snapshot.

The process is killed with SIGKILL at named points (``tests/export/pausing_cli.py`` runs the
real CLI with a pause injected there), the PostgreSQL connection is cut from another session
(``pg_terminate_backend``) in the middle of the rows and before the verification, Ctrl-C is
pressed (KeyboardInterrupt, and SIGINT to the process), and the service commits trades and
deposits in pairs while the export runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from rms.db import build_database
from rms.errors import RmsError
from rms.export import ExportObserver
from rms.schema.tables import DivDeposit, Trade
from rms.settings import load_settings
from tests.export.compare import compare_database_and_file, libpq
from tests.export.conftest import export_to, leftovers
from tests.pg import terminate_sessions
from tests.signals import default_sigint

ROOT = Path(__file__).resolve().parents[2]
PAUSING_CLI = ROOT / "tests" / "export" / "pausing_cli.py"
BULK_TRADES = 12_000  # several COPY batches, so "rows:trades" is in the middle of the table

KILL_POINTS = [
    "snapshot",
    "schema-created",
    "rows:trades",
    "indexes",
    "verify",
    "verified",
    "before-rename",
]


@pytest.fixture
def bulk_url(source_url: str) -> str:
    with psycopg.connect(libpq(source_url)) as conn:
        conn.execute(
            'INSERT INTO trades (id, "universeId", "accountId", buy, sell, buy_date, quantity, '
            "\"createdAt\", \"updatedAt\") SELECT 'bulk-' || g, 'u-1', 'acc-1', g / 7.0, 0, "
            "timestamp '2020-01-01' + g * interval '1 minute', g, "
            "timestamp '2020-01-01', timestamp '2020-01-01' FROM generate_series(1, %s) g",
            (BULK_TRADES,),
        )
    return source_url


def _wait_gone(directory: Path, target: Path) -> None:
    """The guard removes the killed export's files as soon as it notices; give it time."""
    deadline = time.monotonic() + 30
    while leftovers(directory) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert leftovers(directory) == []
    assert not target.exists()


def _start_paused(point: str, url: str, target: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, DATABASE_URL=url)
    proc = subprocess.Popen(
        [sys.executable, str(PAUSING_CLI), point, "db", "export", "--to", str(target)],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        preexec_fn=default_sigint,
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if line.startswith(f"PAUSED {point}"):
            return proc
    proc.wait()
    raise AssertionError(f"the export never reached {point}: {''.join(seen)[-2000:]}")


@pytest.mark.slow
@pytest.mark.parametrize("point", KILL_POINTS)
def test_sigkill_leaves_nothing_and_a_rerun_succeeds(
    bulk_url: str, tmp_path: Path, point: str
) -> None:
    target = tmp_path / "rms.db"
    proc = _start_paused(point, bulk_url, target)
    if point not in ("snapshot",):
        assert leftovers(tmp_path), "the temporary file exists while the export is paused"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _wait_gone(tmp_path, target)
    report = export_to(bulk_url, target)
    assert report.tables["trades"].rows == BULK_TRADES + 8
    assert compare_database_and_file(bulk_url, target) == []


@pytest.mark.slow
def test_sigint_stops_the_export_and_cleans_up_itself(bulk_url: str, tmp_path: Path) -> None:
    target = tmp_path / "rms.db"
    proc = _start_paused("rows:trades", bulk_url, target)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    assert proc.stderr is not None
    assert "interrupted" in proc.stderr.read()
    assert leftovers(tmp_path) == []  # removed by the export itself, not left to the guard
    assert not target.exists()


class _Cut(ExportObserver):
    """Terminates the export's server session when the named point comes."""

    def __init__(self, url: str, at: str) -> None:
        self.url = url
        self.at = at
        self.fired = False

    def event(self, name: str) -> None:
        if name == self.at and not self.fired:
            self.fired = True
            terminate_sessions(self.url, application_name="rms")


@pytest.mark.parametrize("point", ["checked", "rows:trades", "indexes"])
def test_a_lost_connection_leaves_nothing(bulk_url: str, tmp_path: Path, point: str) -> None:
    target = tmp_path / "rms.db"
    cut = _Cut(bulk_url, point)
    with pytest.raises(RmsError) as caught:
        export_to(bulk_url, target, observer=cut)
    assert cut.fired
    assert "nothing was written to" in str(caught.value)
    assert leftovers(tmp_path) == []
    assert not target.exists()
    export_to(bulk_url, target)
    assert compare_database_and_file(bulk_url, target) == []


def test_a_connection_lost_after_every_read_changes_nothing(bulk_url: str, tmp_path: Path) -> None:
    """Once the snapshot is read and verified, the read-only transaction has nothing left to
    commit: losing the connection then does not fail the export."""
    target = tmp_path / "rms.db"
    cut = _Cut(bulk_url, "verified")
    export_to(bulk_url, target, observer=cut)
    assert cut.fired
    assert compare_database_and_file(bulk_url, target) == []


class _CtrlC(ExportObserver):
    def event(self, name: str) -> None:
        if name == "rows:trades":
            raise KeyboardInterrupt


def test_ctrl_c_leaves_nothing(bulk_url: str, tmp_path: Path) -> None:
    target = tmp_path / "rms.db"
    with pytest.raises(KeyboardInterrupt):
        export_to(bulk_url, target, observer=_CtrlC())
    assert leftovers(tmp_path) == []
    assert not target.exists()


# -- a consistent snapshot while the service writes ----------------------------------------


class _Writer(threading.Thread):
    """The service committing a trade and a deposit of the same amount in each unit of work."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.db = build_database(load_settings(database_url=url))
        self.committed = 0
        self.stop = threading.Event()
        self.progress = threading.Condition()
        self.error: BaseException | None = None

    def _pair(self, n: int) -> Any:
        from datetime import UTC, datetime

        now = datetime(2026, 12, 1, tzinfo=UTC)

        def work(session: Any) -> None:
            session.add(
                Trade(id=f"w-trade-{n}", universeId="u-1", accountId="acc-1", buy=1.0, sell=0.0,
                      buy_date=now, quantity=n, createdAt=now, updatedAt=now)
            )  # fmt: skip
            session.add(
                DivDeposit(id=f"w-dep-{n}", date=now, amount=float(n), accountId="acc-1",
                           divDepositTypeId="dt-1", createdAt=now, updatedAt=now)
            )  # fmt: skip

        return work

    def run(self) -> None:
        try:
            n = 0
            while not self.stop.is_set():
                n += 1
                self.db.run(self._pair(n))
                with self.progress:
                    self.committed = n
                    self.progress.notify_all()
        except BaseException as exc:
            self.error = exc
        finally:
            self.db.dispose()

    def wait_for(self, count: int) -> None:
        with self.progress:
            if not self.progress.wait_for(lambda: self.committed >= count, timeout=60):
                raise AssertionError(f"the writer did not reach {count} commits")


class _PauseBetweenTables(ExportObserver):
    """Holds the export between reading divDeposits and trades until the writer has
    committed more pairs: a reader without one snapshot would see the new trades only."""

    def __init__(self, writer: _Writer) -> None:
        self.writer = writer
        self.during = 0

    def event(self, name: str) -> None:
        if name == "table-start:trades":
            before = self.writer.committed
            self.writer.wait_for(before + 5)
            self.during = self.writer.committed - before


def test_an_export_while_the_service_writes_is_one_snapshot(
    source_url: str, tmp_path: Path
) -> None:
    writer = _Writer(source_url)
    writer.start()
    try:
        writer.wait_for(3)
        pause = _PauseBetweenTables(writer)
        target = tmp_path / "rms.db"
        export_to(source_url, target, observer=pause)
    finally:
        writer.stop.set()
        writer.join()
    assert writer.error is None
    assert pause.during >= 5
    import sqlite3

    with sqlite3.connect(target) as conn:
        (trades, quantity) = conn.execute(
            "SELECT count(*), sum(quantity) FROM trades WHERE id LIKE 'w-trade-%'"
        ).fetchone()
        (deposits, amount) = conn.execute(
            "SELECT count(*), sum(amount) FROM \"divDeposits\" WHERE id LIKE 'w-dep-%'"
        ).fetchone()
    assert trades >= 3
    assert (trades, float(quantity)) == (deposits, amount)
    with psycopg.connect(libpq(source_url)) as conn:
        (in_database,) = conn.execute(
            "SELECT count(*) FROM trades WHERE id LIKE 'w-trade-%'"
        ).fetchone()  # type: ignore[misc]
    assert in_database >= trades + 5  # the writer did commit while the export ran
