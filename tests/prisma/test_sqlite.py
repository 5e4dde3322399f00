"""The application's client on SQLite: what it stores in each era, and that it reads it back."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.prisma.harness import (
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
