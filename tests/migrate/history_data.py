"""Rows for the application's schema at any of its 22 history points, and what must become
of them in PostgreSQL, written apart from the loader.

:func:`fill` introspects an empty file of ``tests/fixtures/prisma-history`` (tables, declared
types, NOT NULL, foreign keys) and writes rows in both storage eras: all-INTEGER epoch ms (era
A, Prisma 6), all-ISO text with ``+00:00`` (era B, Prisma 7's adapter), an era-A row updated
later (INTEGER ``createdAt``, TEXT ``updatedAt``), and rows in the forms hand-written SQL left
(``YYYY-MM-DD HH:MM:SS``, ``YYYY-MM-DD``), with NULLs where the schema allows them. A file made by
``prisma migrate`` also carries ``_prisma_migrations``; :func:`fill` adds it.

The rest of the module states the expected outcome with its own rules, from
``../shared/design/SCHEMA-HISTORY.md``, and reads both sides with plain ``sqlite3`` and plain
SQL: nothing here uses the migration's converters, digests or lineage.
"""

from __future__ import annotations

import json
import sqlite3
import struct
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

HISTORY = Path(__file__).resolve().parents[1] / "fixtures" / "prisma-history"
POINTS = sorted(HISTORY.glob("[0-9][0-9]_*.db"))

#: 2025-07-01T00:00:00Z; each row and column gets its own instant after it.
BASE_MS = 1_751_328_000_000
ROWS = 5

#: What the application dropped (SCHEMA-HISTORY.md, "Columns and tables the application
#: itself later dropped"): these go to rms_archive, nothing else may be missing.
DROPPED_COLUMNS = {
    ("universe", "risk_group"),
    ("universe", "risk"),
    ("trades", "statusId"),
    ("screener", "holdings"),
    ("screener", "total_percent_top_holdings"),
    ("screener", "consistent_distributions"),
    ("screener", "inception_date"),
    ("screener", "has_volitility"),
    ("screener", "objectives_understood"),
    ("screener", "graph_higher_before_2008"),
}
WHOLE_ROW_TABLES = {"status", "_accountsTostatus", "_prisma_migrations"}

PRISMA_MIGRATIONS_DDL = """
CREATE TABLE "_prisma_migrations" (
    "id" TEXT PRIMARY KEY NOT NULL, "checksum" TEXT NOT NULL, "finished_at" DATETIME,
    "migration_name" TEXT NOT NULL, "logs" TEXT, "rolled_back_at" DATETIME,
    "started_at" DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count" INTEGER UNSIGNED NOT NULL DEFAULT 0
)"""


@dataclass
class Column:
    name: str
    type: str
    notnull: bool
    pk: bool


@dataclass
class Table:
    name: str
    columns: list[Column]
    fks: dict[str, str] = field(default_factory=dict)  # column -> parent table


def schema(path: Path) -> dict[str, Table]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        out = {}
        for name in names:
            cols = [
                Column(r[1], r[2].upper(), bool(r[3]), bool(r[5]))
                for r in conn.execute(f'PRAGMA table_info("{name}")')
            ]
            fks = {r[3]: r[2] for r in conn.execute(f'PRAGMA foreign_key_list("{name}")')}
            out[name] = Table(name, cols, fks)
        return out
    finally:
        conn.close()


def _ordered(tables: dict[str, Table]) -> list[Table]:
    done: list[str] = []
    while len(done) < len(tables):
        for t in tables.values():
            if t.name not in done and all(p in done or p == t.name for p in t.fks.values()):
                done.append(t.name)
    return [tables[n] for n in done]


def _iso(ms: int) -> str:
    instant = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}+00:00"


def _instant(row: int, column: str, table: str) -> Any:
    """One stored instant per row variant: 0 era A, 1 era B, 2 an era-A row updated in era B,
    3 the DEFAULT CURRENT_TIMESTAMP text, 4 era B (a date-only text for a date column)."""
    ms = BASE_MS + row * 86_400_000 + (sum(map(ord, table + column)) % 997) * 60_001 + row * 7
    if row == 0 or (row == 2 and column != "updatedAt"):
        return ms
    if row == 3:
        return _iso(ms - ms % 1000)[:19].replace("T", " ")
    if row == 4 and column == "date":
        return _iso(ms)[:10]
    return _iso(ms)


def _value(table: Table, col: Column, row: int, point: int) -> Any:
    name = col.name
    if table.name == "_accountsTostatus":  # a join table: one distinct pair per row
        return f"{'accounts' if name == 'A' else 'status'}-{row}"
    if name in table.fks:
        parent = table.fks[name]
        if not col.notnull and row == 4:
            return None
        return f"{parent}-{row % 3}"
    if name == "id":
        return f"{table.name}-{row}"
    if not col.notnull and row == 3 and name not in ("ex_date",):
        return None
    if table.name == "cusip_cache" and name == "source":
        if point == 19 and row in (0, 3):
            return "OPENFIGI"
        return ("THIRTEENF", "YAHOO_FINANCE")[row % 2]
    if name == "most_recent_sell_price":
        # Declared DATETIME at point 09 for 16 minutes (migrations 08-10): what it held were
        # the prices its rebuild copied, REAL values, as after 10.
        return [19.5, 20.25, 0.1 + 0.7, 18.0, 17.125][row]
    if col.type == "DATETIME":
        return _instant(row, name, table.name)
    if col.type == "BOOLEAN":
        return row % 2
    if col.type == "REAL":
        return [0.1 + 0.2, 25.5, 1e-300, 12.345678901234567, -7.25][row]
    if col.type.startswith("INTEGER"):
        if name == "risk_group":
            return 1 + row % 2
        if name == "version":
            return 1 + row % 2
        return 10 * row + 3
    if table.name == "status" and name == "accountId":
        return f"accounts-{row}"
    return f"{table.name}.{name} #{row} ünï'\"|"


def fill(path: Path, point: int) -> dict[str, int]:
    """Rows in every table of the file (and a ``_prisma_migrations`` as Prisma keeps it)."""
    tables = schema(path)
    conn = sqlite3.connect(path)
    conn.execute(PRISMA_MIGRATIONS_DDL)
    counts = {}
    for table in _ordered(tables):
        rows = []
        for row in range(ROWS):
            rows.append([_value(table, c, row, point) for c in table.columns])
        cols = ", ".join(f'"{c.name}"' for c in table.columns)
        marks = ", ".join("?" for _ in table.columns)
        conn.executemany(f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks})', rows)
        counts[table.name] = len(rows)
    from rms.migrate.history import MIGRATIONS  # only the names, as Prisma records them

    conn.executemany(
        "INSERT INTO _prisma_migrations VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)",
        [
            (f"pm-{n}", f"{n:064x}", BASE_MS + n, MIGRATIONS[n - 1], _iso(BASE_MS + n))
            for n in range(1, point + 1)
        ],
    )
    counts["_prisma_migrations"] = point
    conn.commit()
    conn.close()
    return counts


# --------------------------------------------------------------------------- expectations


def expected_ms(value: Any) -> int:
    """The instant a stored DateTime means (the forms :func:`fill` writes), in epoch ms."""
    if isinstance(value, int):
        return value
    text = str(value)
    if len(text) == 10:
        text += "T00:00:00+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return round(parsed.timestamp() * 1000)


def archived(value: Any, declared: str) -> Any:
    """A value as rms_archive must hold it (JSON): 0/1 of a BOOLEAN as false/true."""
    if declared == "BOOLEAN" and value in (0, 1):
        return bool(value)
    return value


def source_rows(path: Path, table: str) -> list[dict[str, Any]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(f'SELECT * FROM "{table}"')]
    finally:
        conn.close()


def target_rows(url: str, table: str) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(f'SELECT * FROM "{table}"')
        return list(cur)


def target_columns(url: str) -> dict[str, dict[str, str]]:
    """table -> column -> data type, of the application's tables in the target."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name <> 'alembic_version'"
        ).fetchall()
    out: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        out.setdefault(table, {})[column] = kind
    return out


def same(kind: str, expected: Any, actual: Any) -> bool:
    """Exact comparison by PostgreSQL type: floats bit for bit, instants to the ms."""
    if expected is None or actual is None:
        return expected is None and actual is None
    if kind == "double precision":
        return struct.pack(">d", float(expected)) == struct.pack(">d", actual)
    if kind.startswith("timestamp"):
        assert actual.tzinfo is None, "timestamp(3) holds UTC wall-clock time"
        return bool(expected_ms(expected) == round(actual.replace(tzinfo=UTC).timestamp() * 1000))
    if kind == "boolean":
        return bool(expected) is actual and expected in (0, 1, True, False)
    return type(expected) is type(actual) and expected == actual


@dataclass
class Outcome:
    """What a check found: differences (empty when all is well) and figures for the record."""

    differences: list[str] = field(default_factory=list)
    compared: int = 0
    archived: int = 0
    defaulted: Counter[str] = field(default_factory=Counter)


def check(
    path: Path,
    url: str,
    run_id: str,
    run_start_ms: int,
    fills: dict[str, Any],
) -> Outcome:
    """Compare the filled file with the migrated database, value by value, and the archive.

    Rules, stated here: a source column of a target table arrives unchanged (as its type
    means it); a dropped column or table goes to rms_archive; a target column the source lacks
    gets the application's (or our) default, the run's start for an instant, or the value
    given with ``--fill``; an init-era ``universe.risk_group`` N becomes the risk group named
    "risk group N"; a cusip_cache source OPENFIGI arrives as THIRTEENF and is archived.
    """
    out = Outcome()
    tables = schema(path)
    columns = target_columns(url)
    expected_archive: list[tuple[str, str | None, str | None, Any]] = []
    groups = {r["id"]: r["name"] for r in target_rows(url, "risk_group")}
    for name, table in tables.items():
        rows = source_rows(path, name)
        if name in WHOLE_ROW_TABLES:
            for row in rows:
                whole = {c.name: archived(row[c.name], c.type) for c in table.columns}
                expected_archive.append((name, row.get("id"), None, whole))
            continue
        if name not in columns:
            out.differences.append(f"source table {name} has no target table and is not dropped")
            continue
        types = {c.name: c.type for c in table.columns}
        for column in types:
            if (name, column) in DROPPED_COLUMNS:
                for row in rows:
                    value = archived(row[column], types[column])
                    expected_archive.append((name, row["id"], column, value))
            elif column not in columns[name]:
                out.differences.append(f"source column {name}.{column} is nowhere in the target")
        got = {r["id"]: r for r in target_rows(url, name)}
        if sorted(got) != sorted(r["id"] for r in rows):
            out.differences.append(f"{name}: ids {sorted(got)} != {sorted(r['id'] for r in rows)}")
            continue
        for row in rows:
            target = got[row["id"]]
            for column, kind in columns[name].items():
                if column in row:
                    expected = row[column]
                    if name == "cusip_cache" and column == "source" and expected == "OPENFIGI":
                        expected_archive.append((name, row["id"], column, "OPENFIGI"))
                        expected = "THIRTEENF"
                    if kind == "USER-DEFINED":  # the enum: compare its label
                        ok = expected == target[column]
                    else:
                        ok = same(kind, expected, target[column])
                elif column == "risk_group_id" and name == "universe" and "risk_group" in row:
                    ok = groups.get(target[column]) == f"risk group {row['risk_group']}"
                    out.defaulted[f"{name}.{column} (derived)"] += 1
                else:
                    expected = _default(name, column, run_start_ms, fills)
                    ok = same(kind, expected, target[column])
                    out.defaulted[f"{name}.{column}"] += 1
                out.compared += 1
                if not ok:
                    out.differences.append(
                        f"{name} {row['id']} {column}: source {row.get(column)!r}, "
                        f"target {target[column]!r}"
                    )
    _check_archive(url, run_id, run_start_ms, expected_archive, out)
    return out


_MISSING = object()


def _default(table: str, column: str, run_start_ms: int, fills: dict[str, Any]) -> Any:
    key = f"{table}.{column}"
    if key in fills:
        return fills[key]
    defaults: dict[str, Any] = {
        "trades.version": 1,  # ours: the application's trades have no version
        "divDepositType.version": 1,  # ours too
        "universe.most_recent_sell_price": None,  # added by migration 08, nullable
        "universe.is_closed_end_fund": 1,  # migration 18: DEFAULT true
        "screener.ex_date": None,  # migration 15, nullable
        "universe.volatility_calculated_at": None,  # migration 22, nullable
        "universe.volatility_long": None,
        "universe.volatility_short": None,
        "cusip_cache.lastUsedAt": run_start_ms,  # migration 21: CURRENT_TIMESTAMP then
    }
    value = defaults.get(key, _MISSING)
    if value is _MISSING:
        raise AssertionError(f"no rule for the target column {key}, absent from the source")
    return value


def _check_archive(
    url: str,
    run_id: str,
    run_start_ms: int,
    expected: list[tuple[str, str | None, str | None, Any]],
    out: Outcome,
) -> None:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name, row_id, column_name, value, archived_at, origin FROM rms_archive"
        ).fetchall()
    origins = {r[5] for r in rows}
    if rows and origins != {f"migrate:{run_id}"}:
        out.differences.append(f"rms_archive origins {origins}")
    for row in rows:
        if round(row[4].replace(tzinfo=UTC).timestamp() * 1000) != run_start_ms:
            out.differences.append(f"rms_archive archived_at {row[4]} is not the run's start")
    got = Counter(json.dumps(list(r[:4]), sort_keys=True) for r in rows)
    want = Counter(json.dumps(list(e), sort_keys=True) for e in expected)
    for item in want - got:
        out.differences.append(f"not archived: {item}")
    for item in got - want:
        out.differences.append(f"archived but not expected: {item}")
    out.archived = len(rows)
