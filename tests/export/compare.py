"""A comparison of a PostgreSQL database and an exported SQLite file, written apart from the
exporter: plain SQL on both sides (psycopg's own type loaders, Python's sqlite3) and this
module's own rules for what each PostgreSQL value must look like in the file.

Rules (the file's storage forms, docs/export.md):

=====================  ==========================================================
PostgreSQL             SQLite
=====================  ==========================================================
NULL                   NULL
text, enum             TEXT, the same bytes in UTF-8
integer                INTEGER, equal
double precision       REAL with the same 8 bytes
boolean                INTEGER 1 or 0
timestamp(3) (UTC)     TEXT ``%Y-%m-%dT%H:%M:%S.mmm+00:00`` of the same instant
jsonb                  TEXT parsing to the same document (numbers by value, types
                       strict), or the INTEGER/REAL a bare number became
=====================  ==========================================================

Every table of the database's schema must be in the file with the same columns and the
same rows (keys in byte order on both sides), except ``alembic_version`` (at the same
revision); the file has ``_prisma_migrations`` besides.
"""

from __future__ import annotations

import json
import sqlite3
import struct
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg

from tests.pg import libpq

__all__ = ["compare_database_and_file", "libpq"]


def _expected_instant(value: datetime) -> str:
    assert value.tzinfo is None, "timestamp without time zone comes back naive"
    assert value.microsecond % 1000 == 0, "timestamp(3) holds milliseconds"
    # By hand: strftime("%Y") does not pad years below 1000 on Linux.
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d}T{value.hour:02d}:"
        f"{value.minute:02d}:{value.second:02d}.{value.microsecond // 1000:03d}+00:00"
    )


def _json_equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return type(a) is type(b) and a == b
    if isinstance(a, int | float | Decimal) and isinstance(b, int | float | Decimal):
        return Decimal(str(a)) == Decimal(str(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


def _same(pg_value: Any, lite_value: Any, pg_type: str) -> bool:
    if pg_type == "jsonb":  # NOT NULL columns: None is the JSON document null
        stored = (
            json.loads(lite_value, parse_float=Decimal)
            if isinstance(lite_value, str)
            else lite_value
        )
        return _json_equal(pg_value, stored)
    if pg_value is None or lite_value is None:
        return pg_value is None and lite_value is None
    if pg_type == "boolean":
        return type(lite_value) is int and lite_value == (1 if pg_value else 0)
    if pg_type.startswith("timestamp"):
        return lite_value == _expected_instant(pg_value)
    if pg_type == "double precision":
        return type(lite_value) is float and struct.pack(">d", pg_value) == struct.pack(
            ">d", lite_value
        )
    if pg_type == "integer":
        return type(lite_value) is int and lite_value == pg_value
    if pg_type == "jsonb":
        stored = (
            json.loads(lite_value, parse_float=Decimal)
            if isinstance(lite_value, str)
            else lite_value
        )
        return _json_equal(pg_value, stored)
    return (
        isinstance(lite_value, str) and lite_value.encode() == str(pg_value).encode()
    )  # text and the enum


def _pg_tables(conn: psycopg.Connection[Any]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for table, column, data_type in conn.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
    ):
        out.setdefault(table, {})[column] = data_type
    return out


def _primary_key(conn: psycopg.Connection[Any], table: str) -> str:
    row = conn.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary",
        (f'"{table}"',),
    ).fetchone()
    assert row is not None
    return str(row[0])


def compare_database_and_file(pg_url: str, path: Path) -> list[str]:
    """Every difference found, as text (empty when the file equals the database)."""
    diffs: list[str] = []
    lite = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        with psycopg.connect(libpq(pg_url)) as pg:
            tables = _pg_tables(pg)
            lite_tables = {
                r[0]
                for r in lite.execute(
                    "SELECT name FROM sqlite_master "
                    "WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                )
            }
            if lite_tables != set(tables) | {"_prisma_migrations"}:
                diffs.append(f"tables: database {sorted(tables)}, file {sorted(lite_tables)}")
            for table, columns in tables.items():
                if table not in lite_tables:
                    continue
                lite_columns = [r[1] for r in lite.execute(f'PRAGMA table_info("{table}")')]
                if sorted(lite_columns) != sorted(columns):
                    diffs.append(f"{table}: columns {sorted(columns)} != {sorted(lite_columns)}")
                    continue
                diffs += _compare_rows(pg, lite, table, columns)
    finally:
        lite.close()
    return diffs


def _compare_rows(
    pg: psycopg.Connection[Any], lite: sqlite3.Connection, table: str, columns: dict[str, str]
) -> list[str]:
    names = list(columns)
    quoted = ", ".join(f'"{c}"' for c in names)
    pk = "version_num" if table == "alembic_version" else _primary_key(pg, table)
    pg_rows = pg.execute(f'SELECT {quoted} FROM "{table}" ORDER BY "{pk}" COLLATE "C"').fetchall()
    lite_rows = lite.execute(f'SELECT {quoted} FROM "{table}" ORDER BY "{pk}"').fetchall()
    if len(pg_rows) != len(lite_rows):
        return [f"{table}: {len(pg_rows)} rows in the database, {len(lite_rows)} in the file"]
    out = []
    key = names.index(pk)
    for a, b in zip(pg_rows, lite_rows, strict=True):
        if a[key] != b[key]:
            out.append(f"{table}: row {a[key]!r} in the database where the file has {b[key]!r}")
            break
        for name, x, y in zip(names, a, b, strict=True):
            if not _same(x, y, columns[name]):
                out.append(f"{table} {a[key]!r}.{name}: database {x!r}, file {y!r}")
    return out
