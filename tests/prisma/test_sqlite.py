"""The application's client on SQLite: what it stores in each era, and that it reads it back."""

from __future__ import annotations

import dataclasses
import re
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.prisma.harness import (
    APP_LATEST_SQLITE,
    HarnessError,
    compare,
    format_differences,
    read_all,
    run_app_operations,
    write_sqlite,
)
from tests.prisma.portfolio import sample_portfolio
from tests.prisma.toolchain import Toolchain

ISO_TEXT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")


def _cells(path: Path) -> Iterator[tuple[str, str, str, Any, str]]:
    """(table, column, declared type, value, storage class) of every non-NULL cell."""
    with sqlite3.connect(path) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for _, column, decl, *_ in conn.execute(f'PRAGMA table_info("{table}")').fetchall():
                query = f'SELECT "{column}", typeof("{column}") FROM "{table}"'
                for value, storage in conn.execute(query):
                    if value is not None:
                        yield table, column, decl, value, storage


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


@pytest.mark.parametrize(
    ("timestamp_format", "era"), [(None, "B (ISO text)"), ("unixepoch-ms", "A (epoch ms)")]
)
def test_the_storage_is_what_schema_history_says(
    prisma_toolchain: Toolchain, tmp_path: Path, timestamp_format: Any, era: str
) -> None:
    portfolio = sample_portfolio()
    path = tmp_path / "app.db"
    counts = write_sqlite(path, portfolio, timestamp_format, toolchain=prisma_toolchain)
    assert counts == {model: len(rows) for model, rows in portfolio.items()}

    seen: dict[str, int] = {}
    with sqlite3.connect(path) as conn:
        for table, rows in portfolio.items():
            for row in rows:
                for column, value in row.items():
                    if value is None:
                        continue
                    stored, storage = conn.execute(
                        f'SELECT "{column}", typeof("{column}") FROM "{table}" WHERE id = ?',
                        (row["id"],),
                    ).fetchone()
                    where = f"era {era}: {table} id={row['id']} {column}"
                    if isinstance(value, datetime):
                        if timestamp_format is None:
                            assert storage == "text" and ISO_TEXT.fullmatch(stored), where
                            assert datetime.fromisoformat(stored) == value, where
                        else:
                            assert (storage, stored) == ("integer", _ms(value)), where
                    elif isinstance(value, bool):
                        assert (storage, stored) == ("integer", int(value)), where
                    elif isinstance(value, float):
                        assert storage == "real" and stored == value, where
                    elif isinstance(value, int):
                        assert (storage, stored) == ("integer", value), where
                    else:
                        assert (storage, stored) == ("text", value), where
                    seen[storage] = seen.get(storage, 0) + 1
    # Nothing else was written: every non-NULL cell is one of the portfolio's values.
    assert sum(1 for _ in _cells(path)) == sum(seen.values())
    assert seen["integer" if timestamp_format else "text"] > 0


@pytest.mark.parametrize("timestamp_format", [None, "unixepoch-ms"])
def test_write_then_read_gives_the_portfolio_back(
    prisma_toolchain: Toolchain, tmp_path: Path, timestamp_format: Any
) -> None:
    portfolio = sample_portfolio()
    path = tmp_path / "app.db"
    write_sqlite(path, portfolio, timestamp_format, toolchain=prisma_toolchain)
    back = read_all(path, timestamp_format, toolchain=prisma_toolchain)
    diffs = compare(portfolio, back)
    assert diffs == [], format_differences(diffs)
    # Read the way the application does since the switch (no option): era-A integers too.
    assert compare(portfolio, read_all(path, toolchain=prisma_toolchain)) == []


def test_a_changed_value_is_found(prisma_toolchain: Toolchain, tmp_path: Path) -> None:
    """The round trip can fail: one instant a millisecond off, one float one ulp off."""
    portfolio = sample_portfolio()
    path = tmp_path / "app.db"
    write_sqlite(path, portfolio, toolchain=prisma_toolchain)
    with sqlite3.connect(path) as conn:
        conn.execute(
            "UPDATE trades SET buy_date = '2025-06-25T13:30:00.258+00:00' WHERE id = 't-01'"
        )
        conn.execute("UPDATE universe SET last_price = 0.3 WHERE id = 'u-clm'")
    diffs = compare(portfolio, read_all(path, toolchain=prisma_toolchain))
    assert [(d.model, d.id, d.field) for d in diffs] == [
        ("trades", "t-01", "buy_date"),
        ("universe", "u-clm", "last_price"),
    ]
    assert diffs[1].left == 0.1 + 0.2 and diffs[1].right == 0.3


def test_a_missing_column_fails_the_read(prisma_toolchain: Toolchain, tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    write_sqlite(path, sample_portfolio(), toolchain=prisma_toolchain)
    with sqlite3.connect(path) as conn:
        conn.execute("ALTER TABLE universe DROP COLUMN volatility_long")
    with pytest.raises(HarnessError, match="volatility_long"):
        read_all(path, toolchain=prisma_toolchain)


def test_the_apps_operations_work_and_roll_back(
    prisma_toolchain: Toolchain, tmp_path: Path
) -> None:
    portfolio = sample_portfolio()
    path = tmp_path / "app.db"
    write_sqlite(path, portfolio, toolchain=prisma_toolchain)
    results = run_app_operations(path, toolchain=prisma_toolchain)
    assert [(r.name, r.ok, r.error) for r in results if not r.ok] == []
    deleted = next(r for r in results if r.name == "delete a symbol that has deposits")
    assert deleted.detail == {"symbol": "NEA", "deposits": 2}
    assert len(results) == 6
    assert compare(portfolio, read_all(path, toolchain=prisma_toolchain)) == []


def test_a_restrict_rule_fails_the_delete(prisma_toolchain: Toolchain, tmp_path: Path) -> None:
    """With our old rule (RESTRICT) the delete operation reports Prisma's error."""
    path = tmp_path / "app.db"
    write_sqlite(path, sample_portfolio(), toolchain=prisma_toolchain)
    with sqlite3.connect(path) as conn:
        (ddl,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'divDeposits'").fetchone()
        conn.execute("PRAGMA writable_schema = ON")
        conn.execute(
            "UPDATE sqlite_master SET sql = ? WHERE name = 'divDeposits'",
            (ddl.replace("ON DELETE SET NULL", "ON DELETE RESTRICT"),),
        )
    results = {r.name: r for r in run_app_operations(path, toolchain=prisma_toolchain)}
    failed = results["delete a symbol that has deposits"]
    assert not failed.ok
    assert failed.error is not None and "Foreign key constraint violated" in failed.error
    assert results["create a trade"].ok and results["everything rolled back"].ok


def test_write_sqlite_never_overwrites(prisma_toolchain: Toolchain, tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    path.write_text("mine")
    with pytest.raises(FileExistsError):
        write_sqlite(path, sample_portfolio(), toolchain=prisma_toolchain)
    assert path.read_text() == "mine"


def test_a_refused_write_leaves_no_file(prisma_toolchain: Toolchain, tmp_path: Path) -> None:
    portfolio = sample_portfolio()
    portfolio["trades"][0]["universeId"] = "u-nowhere"
    path = tmp_path / "app.db"
    with pytest.raises(HarnessError, match="Foreign key constraint violated"):
        write_sqlite(path, portfolio, toolchain=prisma_toolchain)
    assert not path.exists()


@pytest.mark.parametrize("process_tz", ["UTC", "America/New_York"])
def test_every_storage_form_reads_as_the_same_instant(
    prisma_toolchain: Toolchain, tmp_path: Path, process_tz: str
) -> None:
    """The forms SCHEMA-HISTORY lists, as the adapter reads them, wherever the app runs.

    Epoch ms (era A), ISO text with ``+00:00`` (era B), both in one row (an era-A row updated
    later), ``YYYY-MM-DD HH:MM:SS`` (DEFAULT CURRENT_TIMESTAMP) and a bare date: all UTC, also
    when the node process runs in New York.
    """
    path = tmp_path / "forms.db"
    shutil.copyfile(APP_LATEST_SQLITE, path)
    rows = [
        ("epoch", 1735725600123, 1735725600123),
        ("iso", "2025-01-01T10:00:00.123+00:00", "2025-01-01T10:00:00.123+00:00"),
        ("mixed", 1735725600123, "2025-01-01T10:00:00.123+00:00"),
        ("sqlite-default", "2025-01-01 10:00:00", "2025-01-01 10:00:00"),
        ("date-only", "2024-01-15", "2024-01-15"),
    ]
    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO risk_group (id, name, createdAt, updatedAt) VALUES (?, ?, ?, ?)",
            [(i, i, c, u) for i, c, u in rows],
        )
    tool = dataclasses.replace(prisma_toolchain, extra_env={"TZ": process_tz})
    got = {
        r["id"]: (r["createdAt"], r["updatedAt"])
        for r in read_all(path, toolchain=tool)["risk_group"]
    }
    ten = datetime(2025, 1, 1, 10, 0, 0, 123000, tzinfo=UTC)
    assert got == {
        "epoch": (ten, ten),
        "iso": (ten, ten),
        "mixed": (ten, ten),
        "sqlite-default": (ten.replace(microsecond=0),) * 2,
        "date-only": (datetime(2024, 1, 15, tzinfo=UTC),) * 2,
    }
