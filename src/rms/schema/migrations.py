"""Schema migrations: bring a database to the Alembic head (or back), report where it is.

Thin wrappers over Alembic's command API that take an engine or connection, so the CLI,
the service and the data migration all share one path. On SQLite they run the revisions
with ``PRAGMA foreign_keys`` off (it cannot change inside a transaction, and a revision
that rebuilds a referenced table needs it off, as Alembic's batch mode documents); the
revisions check ``PRAGMA foreign_key_check`` themselves before the transaction commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from rms.schema.core import metadata

__all__ = [
    "alembic_config",
    "current_revision",
    "downgrade",
    "head_revision",
    "schema_diff",
    "upgrade",
]

SCRIPT_LOCATION = Path(__file__).parent / "alembic"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for this package's history, optionally bound to a connection."""
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction; on SQLite with foreign keys off while it lasts."""
    with engine.connect() as conn:
        dbapi: Any = conn.connection.dbapi_connection if conn.dialect.name == "sqlite" else None
        enforced = None
        if dbapi is not None:
            # On the DBAPI connection, before SQLAlchemy begins: outside any transaction.
            (enforced,) = dbapi.execute("PRAGMA foreign_keys").fetchone()
            dbapi.execute("PRAGMA foreign_keys = OFF")
        try:
            with conn.begin():
                yield conn
        finally:
            if dbapi is not None:
                dbapi.execute(f"PRAGMA foreign_keys = {'ON' if enforced else 'OFF'}")


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Upgrade the database behind ``engine`` to ``revision``; returns the new revision."""
    with _migrating(engine) as conn:
        command.upgrade(alembic_config(conn), revision)
    with engine.connect() as conn:
        return current_revision(conn)


def downgrade(engine: Engine, revision: str, *, discard: bool = False) -> str | None:
    """Downgrade to ``revision``; returns the new revision.

    A revision whose downgrade would delete data the older schema has no place for refuses
    (:class:`rms.errors.SchemaMigrationError`, naming what) unless ``discard`` is set.
    """
    with _migrating(engine) as conn:
        cfg = alembic_config(conn)
        cfg.attributes["discard"] = discard
        command.downgrade(cfg, revision)
    with engine.connect() as conn:
        return current_revision(conn)


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or None for an unversioned database."""
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision in the history."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migration history is empty"
    return head


def schema_diff(connection: Connection) -> list[Any]:
    """Differences between the tables and the live database (empty when they agree)."""
    ctx = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(ctx, metadata))
