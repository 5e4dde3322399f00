"""``export_database``: the file it writes, exactly, and every way it refuses.

Each test exports a real PostgreSQL database (the suite's cluster) into a real SQLite file
and checks the file with plain SQL (:mod:`tests.export.compare`, written apart from the
exporter) or with the tools that will open it.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import create_engine

from rms.export import (
    DATETIME_STORAGE,
    ExportDataError,
    ExportObserver,
    ExportSourceError,
    ExportTargetError,
    ExportVerificationError,
    export_database,
)
from rms.export.prisma import APP_MIGRATIONS
from rms.schema.migrations import current_revision, head_revision, schema_diff
from tests.export.compare import compare_database_and_file, libpq
from tests.export.conftest import edge_rows, export_to, insert_rows, leftovers, upgraded_database


def _query(path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return conn.execute(sql, args).fetchall()


def test_the_file_equals_the_database(source_url: str, tmp_path: Path) -> None:
    target = tmp_path / "rms.db"
    report = export_to(source_url, target)
    assert compare_database_and_file(source_url, target) == []
    assert report.status == "exported"
    expected = {table: len(rows) for table, rows in edge_rows().items()}
    assert {t: r.rows for t, r in report.tables.items() if r.rows} == expected
    assert all(r.verified for r in report.tables.values())
    assert all(r.pg_checksum == r.sqlite_checksum for r in report.tables.values())
    assert report.checks == {"foreign_key_check": [], "integrity_check": "ok"}
    assert report.file_sha256 == hashlib.sha256(target.read_bytes()).hexdigest()
    assert leftovers(tmp_path) == []


def test_storage_forms_in_the_file(source_url: str, tmp_path: Path) -> None:
    """What each kind of value looks like on disk, read with SQLite's own typeof()."""
    target = tmp_path / "rms.db"
    export_to(source_url, target)
    rows = _query(
        target,
        'SELECT typeof("buy_date"), "buy_date", typeof("buy"), typeof("quantity") '
        "FROM trades WHERE id = 't-3'",
    )
    assert rows == [("text", "2024-04-15T13:10:07.003+00:00", "real", "integer")]
    assert _query(target, "SELECT expired, typeof(expired) FROM universe ORDER BY id") == [
        (0, "integer"),
        (1, "integer"),
    ]
    assert _query(target, 'SELECT "createdAt" FROM accounts ORDER BY id') == [
        ("0001-01-01T00:00:00.000+00:00",),
        ("2024-03-10T06:59:59.999+00:00",),
        ("9999-12-31T23:59:59.999+00:00",),
    ]
    # A JSON column has NUMERIC affinity: a bare number is kept as that number.
    assert _query(target, "SELECT value, typeof(value) FROM settings WHERE key = 'epoch'") == [
        (1758316433622, "integer")
    ]
    assert "TEXT YYYY-MM-DDTHH:MM:SS.mmm+00:00" in DATETIME_STORAGE


def test_the_schema_is_the_head_and_ours(source_url: str, tmp_path: Path) -> None:
    target = tmp_path / "rms.db"
    export_to(source_url, target)
    engine = create_engine(f"sqlite:///{target}")
    try:
        with engine.connect() as conn:
            assert current_revision(conn) == head_revision()
            # Our models and the file agree; the one table they do not know is Prisma's.
            diff = schema_diff(conn)
            assert [(d[0], d[1].name) for d in diff] == [("remove_table", "_prisma_migrations")]
    finally:
        engine.dispose()
    assert _query(target, "PRAGMA journal_mode") == [("delete",)]


def test_prisma_history_is_recorded(source_url: str, tmp_path: Path) -> None:
    """The 22 migrations as applied, the way Prisma's schema engine records them on SQLite."""
    target = tmp_path / "rms.db"
    report = export_to(source_url, target)
    rows = _query(
        target,
        "SELECT migration_name, checksum, typeof(finished_at), typeof(started_at), "
        "rolled_back_at, logs, applied_steps_count FROM _prisma_migrations ORDER BY migration_name",
    )
    assert [r[0] for r in rows] == list(APP_MIGRATIONS)
    assert {r[1:] for r in rows} == {("0" * 64, "integer", "integer", None, None, 1)}
    assert report.prisma_migrations["recorded"] == 22
    ids = _query(target, "SELECT count(DISTINCT id) FROM _prisma_migrations")
    assert ids == [(22,)]


def test_prisma_checksums_from_the_applications_directory(source_url: str, tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    for i, name in enumerate(APP_MIGRATIONS):
        (migrations / name).mkdir(parents=True)
        (migrations / name / "migration.sql").write_text(f"-- migration {i}\n")
    (migrations / "20990101000000_later").mkdir()
    (migrations / "20990101000000_later" / "migration.sql").write_text("SELECT 1;\n")
    (migrations / "migration_lock.toml").write_text('provider = "sqlite"\n')
    target = tmp_path / "rms.db"
    report = export_to(source_url, target, prisma_migrations=migrations)
    recorded = dict(_query(target, "SELECT migration_name, checksum FROM _prisma_migrations"))
    assert recorded == {
        name: hashlib.sha256(f"-- migration {i}\n".encode()).hexdigest()
        for i, name in enumerate(APP_MIGRATIONS)
    }
    assert any("20990101000000_later" in w for w in report.warnings)


def test_prisma_directory_without_the_migrations_is_refused(
    source_url: str, tmp_path: Path
) -> None:
    (tmp_path / "migrations" / APP_MIGRATIONS[0]).mkdir(parents=True)
    with pytest.raises(
        ExportTargetError, match=r"lacks migration.sql of 22 .*\(first: 20250613192713_init\)"
    ):
        export_to(source_url, tmp_path / "rms.db", prisma_migrations=tmp_path / "migrations")
    with pytest.raises(ExportTargetError, match="not a directory"):
        export_to(source_url, tmp_path / "rms.db", prisma_migrations=tmp_path / "nothing")
    assert not (tmp_path / "rms.db").exists()


def test_the_report(source_url: str, tmp_path: Path) -> None:
    target = tmp_path / "rms.db"
    report_path = tmp_path / "reports" / "export.json"
    report = export_to(source_url, target, report_path=report_path)
    saved = json.loads(report_path.read_text())
    assert saved["status"] == "exported"
    assert saved["run_id"] == report.run_id
    assert saved["snapshot"]["isolation"] == "repeatable read"
    assert saved["snapshot"]["read_only"] == "on"
    assert saved["totals"] == {"rows": report.rows, "verified": True}
    assert saved["tables"]["trades"]["pg_checksum"] == saved["tables"]["trades"]["sqlite_checksum"]
    assert saved["target"] == str(target)
    assert saved["schema_revision"] == head_revision()
    assert report_path.stat().st_mode & 0o077 == 0


def test_an_empty_database(empty_url: str, tmp_path: Path) -> None:
    target = tmp_path / "empty.db"
    report = export_to(empty_url, target)
    assert report.rows == 0
    assert compare_database_and_file(empty_url, target) == []


# -- refusals -------------------------------------------------------------------------------


def test_an_existing_file_is_never_overwritten(source_url: str, tmp_path: Path) -> None:
    target = tmp_path / "rms.db"
    target.write_bytes(b"precious")
    with pytest.raises(ExportTargetError, match=r"rms.db exists; nothing was changed .*--replace"):
        export_to(source_url, target)
    assert target.read_bytes() == b"precious"
    assert leftovers(tmp_path) == []


def test_replace_replaces(source_url: str, tmp_path: Path) -> None:
    target = tmp_path / "rms.db"
    target.write_bytes(b"old")
    report = export_to(source_url, target, replace=True)
    assert report.replaced_existing
    assert compare_database_and_file(source_url, target) == []


@pytest.mark.parametrize("suffix", ["-wal", "-journal"])
def test_a_journal_next_to_the_target_stops_the_export(
    source_url: str, tmp_path: Path, suffix: str
) -> None:
    target = tmp_path / "rms.db"
    (tmp_path / f"rms.db{suffix}").write_bytes(b"frames of another database")
    with pytest.raises(ExportTargetError, match=rf"rms.db{suffix} exists: a SQLite journal"):
        export_to(source_url, target, replace=True)
    assert not target.exists()


def test_a_missing_directory(source_url: str, tmp_path: Path) -> None:
    with pytest.raises(ExportTargetError, match=r"the directory .*nowhere does not exist"):
        export_to(source_url, tmp_path / "nowhere" / "rms.db")
    with pytest.raises(ExportTargetError, match="is a directory"):
        export_to(source_url, tmp_path)


def test_a_sqlite_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExportSourceError, match=r"configured database is sqlite .*PostgreSQL"):
        export_to(f"sqlite:///{tmp_path / 'in.db'}", tmp_path / "out.db")


def test_a_database_behind_the_head_is_refused(
    create_pg_database: Callable[[], str], tmp_path: Path
) -> None:
    url = upgraded_database(create_pg_database, "0001")
    with pytest.raises(ExportSourceError, match=r"revision 0001, .* run `rms db upgrade`"):
        export_to(url, tmp_path / "rms.db")
    assert leftovers(tmp_path) == []
    assert not (tmp_path / "rms.db").exists()


def test_a_schema_that_differs_is_refused_naming_every_difference(
    empty_url: str, tmp_path: Path
) -> None:
    with psycopg.connect(libpq(empty_url)) as conn:
        conn.execute('ALTER TABLE trades ADD COLUMN "note" text')
        conn.execute('ALTER TABLE universe ALTER COLUMN "symbol" DROP NOT NULL')
        conn.execute('ALTER TABLE holidays ALTER COLUMN "date" TYPE timestamp(6)')
    with pytest.raises(ExportSourceError) as caught:
        export_to(empty_url, tmp_path / "rms.db")
    message = str(caught.value)
    assert "column trades.note is not in the schema (its values would be lost)" in message
    assert "column universe.symbol is NULL-able unlike the schema" in message
    assert "column holidays.date is timestamp(6), expected timestamp(3)" in message


def test_tables_outside_the_schema_are_named(source_url: str, tmp_path: Path) -> None:
    with psycopg.connect(libpq(source_url)) as conn:
        conn.execute("CREATE TABLE notes (id int)")
        conn.execute("INSERT INTO notes VALUES (1), (2)")
        conn.execute('CREATE TABLE "_prisma_migrations" (id text)')
    report = export_to(source_url, tmp_path / "rms.db")
    assert "table notes (2 rows) is NOT exported: not an RMS table" in report.warnings
    assert any(
        w.startswith("table _prisma_migrations (0 rows) is NOT exported: Prisma")
        for w in report.warnings
    )


def test_values_sqlite_cannot_hold_are_all_named(empty_url: str, tmp_path: Path) -> None:
    rows = edge_rows()
    rows["universe"][0]["last_price"] = float("nan")
    rows["universe"][1]["distribution"] = -0.0
    rows["trades"][0]["buy_date"] = "infinity"
    rows["trades"][1]["sell_date"] = "10000-01-01 00:00:00"
    rows["trades"][2]["buy_date"] = "0044-03-15 12:00:00 BC"
    rows["settings"][1]["value"] = json.dumps(12345678901234567890)
    rows["settings"][0]["value"] = json.dumps(1.5)  # kept exactly: no problem
    insert_rows(empty_url, rows)
    target = tmp_path / "rms.db"
    with pytest.raises(ExportDataError) as caught:
        export_to(empty_url, target)
    found = {(p.table, p.row_id, p.column) for p in caught.value.problems}
    assert found == {
        ("universe", "u-1", "last_price"),
        ("universe", "u-2", "distribution"),
        ("trades", "t-1", "buy_date"),
        ("trades", "t-2", "sell_date"),
        ("trades", "t-3", "buy_date"),
        ("settings", "epoch", "value"),
    }
    message = str(caught.value)
    assert "6 value(s) in the database cannot be stored exactly in SQLite" in message
    assert "universe row id 'u-1': last_price = 'NaN': NaN: SQLite stores NaN as NULL" in message
    assert "-0.0: a SQLite REAL column stores it as 0.0" in message
    assert "trades row id 't-1': buy_date = 'infinity'" in message
    assert not target.exists()
    assert leftovers(tmp_path) == []
    saved = json.loads(target.with_name("rms.db.report.json").read_text())
    assert saved["status"] == "failed"
    assert saved["problems_total"] == 6


def test_export_database_needs_a_place_for_its_report(source_url: str, tmp_path: Path) -> None:
    from rms.db import build_database
    from rms.settings import load_settings

    db = build_database(load_settings(database_url=source_url))
    try:
        with pytest.raises(ValueError, match="needs report_path or work_root"):
            export_database(db, tmp_path / "rms.db")
    finally:
        db.dispose()


class _Tamper(ExportObserver):
    """Changes the finished temporary file just before it is verified (what a bug in the
    writer, a bad disk or another process could do): the verification must notice."""

    def __init__(self, directory: Path, statement: str) -> None:
        self.directory = directory
        self.statement = statement

    def event(self, name: str) -> None:
        if name == "verify":
            (temporary,) = [p for p in self.directory.iterdir() if ".rms-export-" in p.name]
            with sqlite3.connect(temporary) as conn:
                conn.execute(self.statement)


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (
            "UPDATE trades SET buy = buy + 1e-12 WHERE id = 't-2'",
            "trades row id 't-2' column buy: PostgreSQL",
        ),
        ("DELETE FROM holidays", "holidays row id 'h-1' column *: PostgreSQL 'row present'"),
        (
            "UPDATE accounts SET \"createdAt\" = '2024-03-10 06:59:59.999' WHERE id = 'acc-2'",
            "accounts row id 'acc-2' column createdAt",
        ),
        (
            "UPDATE universe SET expired = 2 WHERE id = 'u-1'",
            "universe row id 'u-1' column expired",
        ),
        (
            'INSERT INTO trades (id, "universeId", "accountId", buy, sell, buy_date, quantity, '
            "\"createdAt\", \"updatedAt\") VALUES ('t-x', 'nope', 'acc-1', 1, 1, "
            "'2024-01-01T00:00:00.000+00:00', 1, '2024-01-01T00:00:00.000+00:00', "
            "'2024-01-01T00:00:00.000+00:00')",
            "rows fail PRAGMA foreign_key_check",
        ),
    ],
)
def test_a_file_that_differs_is_never_put_in_place(
    source_url: str, tmp_path: Path, statement: str, expected: str
) -> None:
    target = tmp_path / "rms.db"
    with pytest.raises(ExportVerificationError) as caught:
        export_to(source_url, target, observer=_Tamper(tmp_path, statement))
    assert expected in str(caught.value)
    assert "so it was deleted" in str(caught.value)
    assert not target.exists()
    assert leftovers(tmp_path) == []
    saved = json.loads(target.with_name("rms.db.report.json").read_text())
    assert saved["status"] == "failed"
