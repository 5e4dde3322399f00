"""The application's client on PostgreSQL: its own schema, its operations, time zones.

Documents what ``@prisma/adapter-pg`` does with instants: a ``timestamp(3)`` (the application's
mapping) is read as UTC whatever the session TimeZone, so the instants stay right; a
``timestamptz`` is rendered by the server in the session TimeZone and the adapter then replaces
the offset with ``+00:00``, so in America/New_York every instant comes back shifted by the
zone's offset at that instant (the harness detects it as field differences).
"""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import datetime
from operator import attrgetter
from zoneinfo import ZoneInfo

import psycopg
import pytest

from tests.prisma.harness import (
    APP_LATEST_SQLITE,
    Difference,
    HarnessError,
    client_url,
    compare,
    format_differences,
    read_all,
    run_app_operations,
    set_database_timezone,
    write_portfolio,
)
from tests.prisma.portfolio import sample_portfolio
from tests.prisma.toolchain import Toolchain

NEW_YORK = "America/New_York"


def _sqlite_columns() -> dict[str, str]:
    """``table.column`` -> declared type, from the application's latest SQLite DDL."""
    with sqlite3.connect(f"file:{APP_LATEST_SQLITE}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            f"{t}.{r[1]}": r[2] for t in tables for r in conn.execute(f'PRAGMA table_info("{t}")')
        }


def _query(url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(client_url(url)) as conn:
        return conn.execute(sql.encode()).fetchall()


def test_the_pushed_schema_is_the_applications(app_pg_url: str) -> None:
    """Spot checks of what Prisma made: the types, the enum, the relation rules, the names."""
    types = dict(
        _query(
            app_pg_url,
            "SELECT table_name || '.' || column_name, data_type || coalesce('(' ||"
            " datetime_precision || ')', '') FROM information_schema.columns"
            " WHERE table_schema = 'public'",
        )
    )
    assert types["universe.createdAt"] == "timestamp without time zone(3)"
    assert types["universe.volatility_calculated_at"] == "timestamp without time zone(3)"
    assert types["trades.buy"] == "double precision"
    assert types["cusip_cache.source"] == "USER-DEFINED"
    # Same tables and columns as the application's SQLite DDL; DATETIME became timestamp(3).
    ddl = _sqlite_columns()
    assert set(types) == set(ddl)
    assert {c for c, t in types.items() if t.startswith("timestamp")} == {
        c for c, t in ddl.items() if t == "DATETIME"
    }
    assert _query(
        app_pg_url,
        "SELECT enumlabel FROM pg_enum JOIN pg_type t ON t.oid = enumtypid"
        " WHERE typname = 'CusipCacheSource' ORDER BY enumsortorder",
    ) == [("THIRTEENF",), ("YAHOO_FINANCE",)]
    rules = dict(
        _query(
            app_pg_url,
            "SELECT conname, confdeltype::text || confupdtype::text FROM pg_constraint"
            " WHERE contype = 'f'",
        )
    )
    assert rules.pop("divDeposits_universeId_fkey") == "nc"  # SET NULL, CASCADE
    assert set(rules.values()) == {"rc"}  # RESTRICT, CASCADE
    assert len(rules) == 6


def test_write_read_and_operations_on_the_apps_schema(
    prisma_toolchain: Toolchain, app_pg_url: str
) -> None:
    portfolio = sample_portfolio()
    write_portfolio(app_pg_url, portfolio, toolchain=prisma_toolchain)
    diffs = compare(portfolio, read_all(app_pg_url, toolchain=prisma_toolchain))
    assert diffs == [], format_differences(diffs)
    results = run_app_operations(app_pg_url, toolchain=prisma_toolchain)
    assert [(r.name, r.error) for r in results if not r.ok] == []
    assert len(results) == 6


def test_new_york_time_zone_keeps_timestamp3_instants(
    prisma_toolchain: Toolchain, app_pg_url: str
) -> None:
    portfolio = sample_portfolio()
    set_database_timezone(app_pg_url, NEW_YORK)
    # Written and read while every session is in New York.
    write_portfolio(app_pg_url, portfolio, toolchain=prisma_toolchain)
    diffs = compare(portfolio, read_all(app_pg_url, toolchain=prisma_toolchain))
    assert diffs == [], format_differences(diffs)
    results = run_app_operations(app_pg_url, toolchain=prisma_toolchain)
    assert [(r.name, r.error) for r in results if not r.ok] == []
    # The stored wall clock is UTC: the server sees the same instants in UTC.
    set_database_timezone(app_pg_url, "UTC")
    assert compare(portfolio, read_all(app_pg_url, toolchain=prisma_toolchain)) == []
    stored = _query(
        app_pg_url, """SELECT "createdAt"::text FROM accounts WHERE id = 'acc-brokerage'"""
    )
    assert stored == [("2025-06-13 19:27:13.001",)]


def _to_timestamptz(url: str) -> int:
    """Turn every timestamp column into timestamptz, keeping the instants (read as UTC)."""
    columns = _query(
        url,
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND data_type = 'timestamp without time zone'",
    )
    with psycopg.connect(client_url(url)) as conn:
        for table, column in columns:
            conn.execute(
                f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE timestamptz(3)'
                f" USING \"{column}\" AT TIME ZONE 'UTC'".encode()
            )
    return len(columns)


def test_timestamptz_in_new_york_shifts_every_instant(
    prisma_toolchain: Toolchain, app_pg_url: str
) -> None:
    """What issue 10 saw on our schema; the harness must see it too."""
    portfolio = sample_portfolio()
    write_portfolio(app_pg_url, portfolio, toolchain=prisma_toolchain)
    assert _to_timestamptz(app_pg_url) == sum(t == "DATETIME" for t in _sqlite_columns().values())
    # In UTC the adapter's offset rewrite is harmless: nothing differs.
    set_database_timezone(app_pg_url, "UTC")
    assert compare(portfolio, read_all(app_pg_url, toolchain=prisma_toolchain)) == []

    set_database_timezone(app_pg_url, NEW_YORK)
    diffs = compare(portfolio, read_all(app_pg_url, toolchain=prisma_toolchain))
    instants = [
        (model, row["id"], name, value)
        for model, rows in portfolio.items()
        for row in rows
        for name, value in row.items()
        if isinstance(value, datetime)
    ]
    zone = ZoneInfo(NEW_YORK)
    expected = [
        Difference(model, row_id, name, value, value + value.astimezone(zone).utcoffset())
        for model, row_id, name, value in instants
    ]
    key = attrgetter("model", "id", "field")
    assert sorted(diffs, key=key) == sorted(expected, key=key)
    offsets = {d.left - d.right for d in diffs}
    assert {o.total_seconds() / 3600 for o in offsets} == {4.0, 5.0}  # EDT and EST


@pytest.mark.parametrize("zone", ["UTC", NEW_YORK])
def test_a_missing_column_or_table_is_reported(
    prisma_toolchain: Toolchain, app_pg_url: str, zone: str
) -> None:
    """Issue 10's schema gaps: every universe query fails, the CUSIP tables are missing."""
    set_database_timezone(app_pg_url, zone)
    write_portfolio(app_pg_url, sample_portfolio(), toolchain=prisma_toolchain)
    with psycopg.connect(client_url(app_pg_url)) as conn:
        conn.execute('ALTER TABLE universe DROP COLUMN "volatility_short"')
        conn.execute("DROP TABLE cusip_cache_audit")
    with pytest.raises(HarnessError, match="2 model") as info:
        read_all(app_pg_url, toolchain=prisma_toolchain)
    assert "volatility_short" in str(info.value)
    assert "cusip_cache_audit" in str(info.value)
    failed = {
        r.name for r in run_app_operations(app_pg_url, toolchain=prisma_toolchain) if not r.ok
    }
    assert {"update a universe row", "create a trade"} <= failed


def test_a_client_running_in_new_york_writes_and_reads_utc(
    prisma_toolchain: Toolchain, app_pg_url: str
) -> None:
    """The node process's own TZ changes nothing either (pg's local-time Date handling)."""
    portfolio = sample_portfolio()
    tool = dataclasses.replace(prisma_toolchain, extra_env={"TZ": NEW_YORK})
    write_portfolio(app_pg_url, portfolio, toolchain=tool)
    assert compare(portfolio, read_all(app_pg_url, toolchain=tool)) == []
    assert compare(portfolio, read_all(app_pg_url, toolchain=prisma_toolchain)) == []
    stored = _query(
        app_pg_url, """SELECT "createdAt"::text FROM accounts WHERE id = 'acc-brokerage'"""
    )
    assert stored == [("2025-06-13 19:27:13.001",)]
