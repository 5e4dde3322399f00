"""The SQLite side of an export: the schema, the rows, the indexes of the new file.

The schema is made by the one schema history there is (Alembic, ``rms db upgrade``'s
revisions run on the new file), so the file is exactly what our service creates on SQLite:
the application's own latest tables with its names, declared types (``DATETIME``,
``BOOLEAN``, ``REAL``...), unique keys, indexes and foreign keys as its migrations create
them, plus our additions (``settings``, ``rms_archive``, the ``version`` columns, the CHECK on
``cusip_cache.source``, ``alembic_version`` at the head). ``_prisma_migrations`` is added
for the application (see :mod:`rms.export.prisma`).

The rows go in with the file's journal and syncing off (it is a temporary file: on any
failure it is deleted, never repaired), the named indexes dropped and built again after the
load (one sorted build each instead of a million random inserts), and foreign keys checked
once at the end (``PRAGMA foreign_key_check``) rather than row by row.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from rms.transfer.spec import TableSpec

__all__ = ["create_schema", "drop_indexes", "insert_rows", "open_for_load", "restore_indexes"]

#: Page cache of the loading connection (KiB, negative as SQLite wants it): 128 MB.
CACHE_KIB = 131072


def create_schema(path: Path) -> str | None:
    """Create the schema head in a new, empty file; returns the revision it is at."""
    from rms.schema.migrations import upgrade

    engine = create_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        return upgrade(engine)
    finally:
        engine.dispose()


def open_for_load(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA foreign_keys = OFF")
    return conn


def drop_indexes(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Drop the named indexes (keys made by CREATE INDEX); returns (name, SQL) to rebuild."""
    found = [
        (str(name), str(ddl))
        for name, ddl in conn.execute(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'index' AND sql IS NOT NULL ORDER BY name"
        )
    ]
    for name, _ddl in found:
        conn.execute(f'DROP INDEX "{name}"')
    return found


def restore_indexes(conn: sqlite3.Connection, indexes: Sequence[tuple[str, str]]) -> None:
    """Build the indexes again from their own SQL, then check each one is back as it was."""
    for _name, ddl in indexes:
        conn.execute(ddl)
    back = {
        (str(n), str(d))
        for n, d in conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        )
    }
    missing = set(indexes) - back
    if missing:  # pragma: no cover - SQLite keeps what it was given
        raise sqlite3.DatabaseError(f"indexes did not come back: {sorted(n for n, _ in missing)}")


def insert_rows(conn: sqlite3.Connection, spec: TableSpec, rows: Iterable[tuple[Any, ...]]) -> None:
    columns = ", ".join(f'"{c}"' for c in spec.column_names)
    marks = ", ".join("?" for _ in spec.columns)
    conn.executemany(f'INSERT INTO "{spec.name}" ({columns}) VALUES ({marks})', rows)  # noqa: S608
