"""Faults at any moment leave the target exactly as it was, and a rerun succeeds.

The target connection is cut from another session (``pg_terminate_backend``) at named
points of the load, including in the middle of a table's COPY; the process is killed with
SIGKILL at named points (``pausing_cli.py`` runs the real CLI with a pause injected there);
and Ctrl-C is pressed (KeyboardInterrupt, and SIGINT to the process).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from rms.errors import RmsError
from rms.migrate import MigrateOptions, MigrationObserver, preflight, run_migration
from rms.transfer.sqlite import file_sha256
from tests.migrate.conftest import libpq, target_state
from tests.pg import terminate_sessions
from tests.signals import default_sigint

POINTS = [
    "locked",
    "table-start:accounts",
    "table-start:trades",
    "rows:trades",  # in the middle of the trades COPY
    "restore-indexes",
    "verify",
    "ledger",
    "before-commit",
]


class _Cut(MigrationObserver):
    """Terminates the migration's server session when the named event comes."""

    def __init__(self, url: str, at: str) -> None:
        self.url = url
        self.at = at
        self.fired = False

    def event(self, name: str) -> None:
        if name == self.at and not self.fired:
            self.fired = True
            terminate_sessions(self.url)


class _CtrlC(MigrationObserver):
    def event(self, name: str) -> None:
        if name == "rows:trades":
            raise KeyboardInterrupt


def _wait_sessions_gone(url: str) -> None:
    dbname = psycopg.conninfo.conninfo_to_dict(libpq(url))["dbname"]
    deadline = time.monotonic() + 20
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
                "AND pid <> pg_backend_pid()",
                (dbname,),
            ).fetchone()
            if row == (0,):
                return
            time.sleep(0.05)
    raise AssertionError("the killed migration's session did not go away")


def _rerun(source: Path, url: str, tmp_path: Path) -> None:
    options = MigrateOptions(report_path=tmp_path / "rerun" / "report.json")
    report = run_migration(preflight(source, url, options), options)
    assert report.status == "committed"
    assert all(t.verified for t in report.tables.values())


@pytest.mark.parametrize("point", POINTS)
def test_connection_cut_leaves_target_unchanged(
    point: str, generated_20k: Path, pg_url: str, tmp_path: Path
) -> None:
    before = target_state(pg_url)
    sha = file_sha256(generated_20k)
    cut = _Cut(pg_url, point)
    options = MigrateOptions(report_path=tmp_path / "run" / "report.json", observer=cut)
    plan = preflight(generated_20k, pg_url, options)
    with pytest.raises(RmsError) as caught:
        run_migration(plan, options)
    assert cut.fired
    assert "target" in str(caught.value)
    assert target_state(pg_url) == before
    assert file_sha256(generated_20k) == sha
    _rerun(generated_20k, pg_url, tmp_path)


def test_ctrl_c_leaves_target_unchanged(generated_20k: Path, pg_url: str, tmp_path: Path) -> None:
    before = target_state(pg_url)
    options = MigrateOptions(report_path=tmp_path / "run" / "report.json", observer=_CtrlC())
    with pytest.raises(KeyboardInterrupt):
        run_migration(preflight(generated_20k, pg_url, options), options)
    _wait_sessions_gone(pg_url)
    assert target_state(pg_url) == before
    _rerun(generated_20k, pg_url, tmp_path)


PAUSING_CLI = Path(__file__).with_name("pausing_cli.py")


def _start(source: Path, url: str, tmp_path: Path, pause_at: str) -> subprocess.Popen[str]:
    command = [sys.executable, str(PAUSING_CLI), pause_at, "db", "migrate"]
    return subprocess.Popen(
        [*command, "--from", str(source), "--to", url],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )


def _wait_paused(proc: subprocess.Popen[str], point: str) -> None:
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.startswith(f"PAUSED {point}"):
            return
    proc.wait(timeout=30)
    raise AssertionError(f"the migration never reached {point} (exit {proc.returncode})")


@pytest.mark.parametrize(
    "point", ["backup-done", "rows:trades", "restore-indexes", "ledger", "before-commit"]
)
def test_sigkill_leaves_target_unchanged(
    point: str, generated_20k: Path, pg_url: str, tmp_path: Path
) -> None:
    before = target_state(pg_url)
    sha = file_sha256(generated_20k)
    proc = _start(generated_20k, pg_url, tmp_path, point)
    try:
        _wait_paused(proc, point)
        proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
    _wait_sessions_gone(pg_url)
    assert target_state(pg_url) == before
    assert file_sha256(generated_20k) == sha
    _rerun(generated_20k, pg_url, tmp_path)


def test_sigint_exits_130_and_leaves_target_unchanged(
    generated_20k: Path, pg_url: str, tmp_path: Path
) -> None:
    before = target_state(pg_url)
    proc = _start(generated_20k, pg_url, tmp_path, "rows:trades")
    try:
        _wait_paused(proc, "rows:trades")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.stderr is not None
    rest = proc.stderr.read()
    assert "Traceback" not in rest
    assert rest.strip() == "interrupted"
    _wait_sessions_gone(pg_url)
    assert target_state(pg_url) == before
