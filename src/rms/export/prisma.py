"""The application's migration history, recorded in the file so the application starts on it.

The application's desktop build runs ``prisma migrate deploy`` (its schema engine's
``applyMigrations``) at every start. On a database that has tables but no
``_prisma_migrations`` table that step stops with P3005 ("the database schema is not
empty"), so a file without it would not open in the application at all. With the table,
``applyMigrations`` compares migration **names** only: every migration directory whose name
has a row with ``finished_at`` set and ``rolled_back_at`` NULL counts as applied, and only
the others are run. So the file records the application's 22 migrations (its schema after
the last one is exactly what the file holds) as applied, in Prisma's own table layout and
value forms on SQLite (epoch milliseconds in the DATETIME columns, one applied step each).
A migration the application adds later is then applied on its next start, as on any of
its own files.

The ``checksum`` column is the SHA-256 of each ``migration.sql``. rms does not ship the
application's migration files, so unless their directory is given (the application's
``prisma/migrations``, ``--prisma-migrations``), the checksums are unknown and written as
64 zeros: ``migrate deploy`` ignores them, while ``prisma migrate dev`` (a developer's tool)
would call the migrations edited. With the directory, the real checksums are recorded.
"""

from __future__ import annotations

import hashlib
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rms.export.errors import ExportTargetError
from rms.migrate.history import MIGRATIONS

__all__ = [
    "APP_MIGRATIONS",
    "PRISMA_MIGRATIONS_DDL",
    "PrismaHistory",
    "prisma_history",
    "record_history",
]

#: The application's SQLite migrations, oldest first (docs: SCHEMA-HISTORY.md): the one list
#: the migration's history knows. The schema after the last one is the schema of revision
#: 0002, which the exported file has.
APP_MIGRATIONS: tuple[str, ...] = MIGRATIONS

#: Prisma's migrations table on SQLite, as its schema engine creates it.
PRISMA_MIGRATIONS_DDL = """CREATE TABLE "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
)"""

UNKNOWN_CHECKSUM = "0" * 64


@dataclass(frozen=True)
class PrismaHistory:
    """The rows to record: (migration name, checksum), and what is known about them."""

    checksums: tuple[tuple[str, str], ...]
    source: str
    warnings: list[str] = field(default_factory=list)


def prisma_history(migrations_dir: Path | None = None) -> PrismaHistory:
    """The 22 migrations with their checksums: from ``migrations_dir`` when given, else unknown.

    ``migrations_dir`` must hold ``<name>/migration.sql`` for each of the 22; directories
    for later migrations are reported (the application will apply them on its next start).
    """
    if migrations_dir is None:
        return PrismaHistory(
            tuple((name, UNKNOWN_CHECKSUM) for name in APP_MIGRATIONS),
            "checksums unknown (no --prisma-migrations directory): written as zeros",
        )
    root = Path(migrations_dir)
    if not root.is_dir():
        raise ExportTargetError(
            f"--prisma-migrations {root}: not a directory", field="--prisma-migrations"
        )
    pairs: list[tuple[str, str]] = []
    missing: list[str] = []
    for name in APP_MIGRATIONS:
        script = root / name / "migration.sql"
        try:
            pairs.append((name, hashlib.sha256(script.read_bytes()).hexdigest()))
        except OSError:
            missing.append(name)
    if missing:
        raise ExportTargetError(
            f"--prisma-migrations {root} lacks migration.sql of {len(missing)} of the "
            f"application's migrations (first: {missing[0]}); is it the application's "
            "prisma/migrations directory?",
            field="--prisma-migrations",
        )
    known = set(APP_MIGRATIONS)
    later = sorted(
        p.name
        for p in root.iterdir()
        if p.is_dir() and (p / "migration.sql").exists() and p.name not in known
    )
    warnings = (
        [
            f"--prisma-migrations has migrations newer than this schema ({', '.join(later)}): they "
            "are not recorded as applied, so the application will run them on its next start"
        ]
        if later
        else []
    )
    return PrismaHistory(tuple(pairs), f"checksums of the files in {root}", warnings)


def record_history(conn: sqlite3.Connection, history: PrismaHistory, finished_ms: int) -> int:
    """Create ``_prisma_migrations`` and record each migration as applied; returns the count."""
    conn.execute(PRISMA_MIGRATIONS_DDL)
    rows: Sequence[tuple[str, str, int, str, int]] = [
        (str(uuid.uuid4()), checksum, finished_ms, name, finished_ms)
        for name, checksum in history.checksums
    ]
    conn.executemany(
        'INSERT INTO "_prisma_migrations" ("id", "checksum", "finished_at", "migration_name", '
        '"logs", "rolled_back_at", "started_at", "applied_steps_count") '
        "VALUES (?, ?, ?, ?, NULL, NULL, ?, 1)",
        rows,
    )
    return len(rows)
