"""Runs a person can find: ``rms db runs``, rollback that asks first, files only in the
state directory and only what is asked for, a report that cannot be written after COMMIT
said loudly, and ``verify`` showing both sides and failing on anything unaccounted for."""

from __future__ import annotations

import json
import os
import pty
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from rms.clikit import Hooks
from tests.migrate.conftest import libpq, target_state, write_source
from tests.rms_cli import run_rms

Cli = Callable[..., tuple[int, str, str]]


def _run_ids(url: str) -> list[str]:
    with psycopg.connect(libpq(url)) as conn:
        return [r[0] for r in conn.execute("SELECT run_id::text FROM rms_migrate.runs")]


def test_runs_lists_the_ledger_as_a_table_and_as_json(
    source: Path, pg_url: str, run_cli: Cli, tmp_path: Path
) -> None:
    code, out, err = run_cli("db", "runs", "--to", pg_url)
    assert code == 0, err
    assert "no migration runs recorded" in out
    assert run_cli("db", "migrate", "--from", str(source), "--to", pg_url)[0] == 0
    second = write_source(tmp_path / "second.db")
    code, _out, err = run_cli(
        "db", "migrate", "--from", str(second), "--to", pg_url, "--replace", "--yes"
    )
    assert code == 0, err
    code, out, err = run_cli("db", "runs", "--to", pg_url, "--format", "json")
    assert code == 0, err
    newest, oldest = json.loads(out)
    assert newest["status"] == "committed"
    assert oldest["status"] == "superseded" and oldest["superseded_by"] == newest["run_id"]
    assert newest["source_path"] == str(second.resolve())
    assert len(newest["source_sha256"]) == 64
    assert newest["tables"]["trades"]["loaded"] == 5
    assert newest["accounting"]["source_tables"]["trades"]["fate"] == "carried"
    code, out, err = run_cli("db", "runs", "--to", pg_url)
    assert code == 0, err
    for expected in (newest["run_id"], oldest["run_id"], "superseded by", "trades 5"):
        assert expected in out, (expected, out)
    assert newest["source_sha256"][:12] in out


def _rollback_at_a_terminal(url: str, run_id: str, answer: str, cwd: Path) -> tuple[int, str]:
    """``rms db rollback`` with a terminal on stdin (a pty), answering the question."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "rms.cli", "db", "rollback", run_id, "--to", url],
            stdin=follower,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            text=True,
        )
        os.write(leader, answer.encode() + b"\n")
        out, _ = proc.communicate(timeout=120)
    finally:
        os.close(leader)
        os.close(follower)
    return proc.returncode, out


def test_rollback_shows_what_it_removes_and_asks_first(
    migrated: tuple[str, Any], run_cli: Cli, tmp_path: Path
) -> None:
    url, report = migrated
    before = target_state(url)
    code, out, err = run_cli("db", "rollback", report.run_id, "--to", url)
    assert code == 2
    assert f"would delete 12 row(s) of run {report.run_id}" in out
    assert "trades 5" in out
    assert "without --yes (cannot ask: not a terminal)" in err
    assert target_state(url) == before
    code, out = _rollback_at_a_terminal(url, report.run_id, "n", tmp_path)
    assert code == 2, out
    assert "Delete 12 row(s)" in out and "not confirmed; nothing was deleted" in out
    assert target_state(url) == before
    code, out = _rollback_at_a_terminal(url, report.run_id, "y", tmp_path)
    assert code == 0, out
    assert "rolled back: deleted trades 5" in out
    assert target_state(url)["counts"]["public.trades"] == 0


@pytest.mark.parametrize("keep", [False, True])
def test_a_dry_run_keeps_no_copy_of_the_data_unless_asked(
    keep: bool, source: Path, pg_url: str, run_cli: Cli, state_dir: Path
) -> None:
    args = ["db", "migrate", "--from", str(source), "--to", pg_url, "--dry-run"]
    code, out, err = run_cli(*args, *(["--keep-backup"] if keep else []))
    assert code == 0, err
    (run_dir,) = (state_dir / "migrate").iterdir()
    kept = sorted(p.name for p in run_dir.iterdir())
    report = json.loads((run_dir / "report.json").read_text())
    if keep:
        assert len(kept) == 2 and report["backup"] and Path(report["backup"]).exists()
    else:
        assert kept == ["report.json"] and report["backup"] is None
        assert "no backup kept (--keep-backup)" in out


@pytest.mark.parametrize("keep", [False, True])
def test_a_failed_run_keeps_no_copy_of_the_data_unless_asked(
    keep: bool, tmp_path: Path, pg_url: str, run_cli: Cli, state_dir: Path
) -> None:
    from tests.migrate.conftest import base_rows

    rows = base_rows()
    rows["trades"][0]["buy"] = "n/a"
    bad = write_source(tmp_path / "bad.db", rows)
    args = ["db", "migrate", "--from", str(bad), "--to", pg_url]
    code, _out, err = run_cli(*args, *(["--keep-backup"] if keep else []))
    assert code == 2 and "1 problem(s)" in err
    (run_dir,) = (state_dir / "migrate").iterdir()
    names = sorted(p.name for p in run_dir.iterdir())
    listed = ["problems.txt", "report.json"]  # the problems, as the report has them
    assert names == (sorted([*listed, names[-1]]) if keep else listed)
    if keep:
        assert names[-1].startswith("source-") and names[-1].endswith(".db")


def test_a_report_that_cannot_be_written_after_commit_is_said_loudly(
    source: Path, pg_url: str, tmp_path: Path
) -> None:
    run_dir = tmp_path / "run"

    def break_the_directory(event: str) -> None:
        if event == "committed":  # the data is committed; now the report cannot be written
            shutil.rmtree(run_dir)
            run_dir.write_text("a file where the run directory was")

    result = run_rms(
        "db", "migrate", "--from", str(source), "--to", pg_url,
        "--report", str(run_dir / "report.json"),
        hooks=Hooks(migration_events=break_the_directory),
    )  # fmt: skip
    assert result.exit_code == 2
    (run_id,) = _run_ids(pg_url)
    assert f"run {run_id} COMMITTED" in result.stderr
    assert "do not run it again" in result.stderr and "could not be written" in result.stderr
    printed = json.loads(result.stderr[result.stderr.index("{") : result.stderr.rindex("}") + 1])
    assert printed["run_id"] == run_id and printed["status"] == "committed"
    assert target_state(pg_url)["counts"]["public.trades"] == 5


def test_verify_shows_both_sides_and_fails_on_what_nothing_accounts_for(
    migrated: tuple[str, Any], source: Path, run_cli: Cli
) -> None:
    url, report = migrated
    code, out, err = run_cli("db", "verify", "--from", str(source), "--to", url)
    assert code == 0, err
    assert f"against run {report.run_id}" in out
    trades = next(
        line for line in out.splitlines() if line.strip().startswith(("│ trades", "trades"))
    )
    assert trades.count("5") >= 3  # read, loaded and in target
    assert report.tables["trades"].target_checksum in out
    # The application gains a column after the migration: verify must not call that agreed.
    conn = sqlite3.connect(source)
    conn.execute("ALTER TABLE trades ADD COLUMN notes TEXT")
    conn.execute("UPDATE trades SET notes = 'new' WHERE id = 't-1'")
    conn.commit()
    conn.close()
    code, out, err = run_cli("db", "verify", "--from", str(source), "--to", url)
    assert code == 2
    assert "nothing accounts for" in err and "trades.notes (1)" in err
    code, out, err = run_cli("db", "verify", "--from", str(source), "--to", url, "--run", "nope")
    assert code == 2 and "not a run id" in err


@pytest.mark.parametrize("journal", ["delete", "wal"])
@pytest.mark.parametrize("dry_run", [True, False])
def test_a_run_folder_holds_no_side_files_and_the_backup_stands_alone(
    journal: str,
    dry_run: bool,
    tmp_path: Path,
    create_pg_database: Callable[[], str],
    run_cli: Cli,
    state_dir: Path,
) -> None:
    """A source in either journal mode, as a running rms leaves it (in WAL mode: a writer's
    commits still in the -wal file, not checkpointed): the run folder holds the report and,
    for a committed run, one backup file that opens read-only alone and passes
    integrity_check; a dry run keeps nothing else."""
    source = write_source(tmp_path / "rms.db")
    writer = sqlite3.connect(source, isolation_level=None)
    writer.execute(f"PRAGMA journal_mode={journal}")
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("UPDATE accounts SET name = 'Main, renamed' WHERE id = 'acc-1'")
    try:
        if journal == "wal":
            assert Path(f"{source}-wal").stat().st_size > 0  # the change is in the WAL only
        args = ["db", "migrate", "--from", str(source), "--to", create_pg_database()]
        code, out, err = run_cli(*args, *(["--dry-run"] if dry_run else []))
    finally:
        writer.close()
    assert code == 0, err
    (run_dir,) = (state_dir / "migrate").iterdir()
    names = sorted(p.name for p in run_dir.iterdir())
    if dry_run:
        assert names == ["report.json"] and "no backup kept" in out
        return
    (backup,) = (n for n in names if n != "report.json")
    assert names == sorted(["report.json", backup]) and backup.endswith(".db")
    alone = tmp_path / "alone"
    alone.mkdir()
    copy = alone / backup
    shutil.copyfile(run_dir / backup, copy)  # the file by itself, nothing beside it
    conn = sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        name = conn.execute("SELECT name FROM accounts WHERE id = 'acc-1'").fetchone()
        assert name == ("Main, renamed",)  # the commit that was only in the source's WAL
    finally:
        conn.close()
    assert sorted(p.name for p in alone.iterdir()) == [backup]
    assert sorted(p.name for p in run_dir.iterdir()) == names
