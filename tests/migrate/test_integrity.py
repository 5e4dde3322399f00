"""The backup's full ``PRAGMA integrity_check`` runs after the load (issue 31) and still
stops the run before COMMIT, with the target unchanged.

The source passes the preflight's ``quick_check`` (its pages are sound) but two of its
indexes point at each other's b-trees, which only the full check (index against table)
sees; the rows themselves read fine, so the load runs to its end first.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from rms.migrate import MigrateOptions, MigrationObserver, SourceError, preflight, run_migration
from tests.migrate.conftest import target_state, write_source


class _Events(MigrationObserver):
    def __init__(self) -> None:
        self.names: list[str] = []

    def event(self, name: str) -> None:
        self.names.append(name)


def _swapped_indexes(path: Path) -> Path:
    write_source(path)
    conn = sqlite3.connect(path)
    roots = dict(
        conn.execute(
            "SELECT name, rootpage FROM sqlite_master WHERE name IN "
            "('trades_accountId_idx', 'trades_universeId_idx')"
        ).fetchall()
    )
    conn.execute("PRAGMA writable_schema = ON")
    for name, other in (
        ("trades_accountId_idx", "trades_universeId_idx"),
        ("trades_universeId_idx", "trades_accountId_idx"),
    ):
        conn.execute("UPDATE sqlite_master SET rootpage = ? WHERE name = ?", (roots[other], name))
    conn.commit()
    conn.close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA quick_check").fetchall() == [("ok",)]
    assert conn.execute("PRAGMA integrity_check").fetchall() != [("ok",)]
    conn.close()
    return path


def test_a_source_failing_only_the_full_check_aborts_after_the_load(
    pg_url: str, tmp_path: Path
) -> None:
    source = _swapped_indexes(tmp_path / "swapped.db")
    before = target_state(pg_url)
    events = _Events()
    options = MigrateOptions(report_path=tmp_path / "run" / "report.json", observer=events)
    plan = preflight(source, pg_url, options)
    with pytest.raises(SourceError, match="integrity_check"):
        run_migration(plan, options)
    assert "ledger" in events.names  # the load, the rebuild and the verification ran
    assert "before-commit" not in events.names
    assert target_state(pg_url) == before
    # The quick check alone (integrity="quick") lets the same file through.
    quick = MigrateOptions(report_path=tmp_path / "quick" / "report.json", integrity="quick")
    report = run_migration(preflight(source, pg_url, quick), quick)
    assert report.status == "committed"
