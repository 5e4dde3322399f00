"""psycopg for the tools that move rows (migrate, export): the one place they get it from.

They take a connection from :mod:`rms.db` (an engine's SQLAlchemy connection) and then need
what SQLAlchemy does not give: ``COPY`` (``cursor.copy``), server-side cursors, and SQL
composed from identifiers (:data:`sql`). This module names those for them, so that
``psycopg`` is imported in :mod:`rms.db` alone (the import contract *one-road-to-postgresql*)
and its errors reach them only translated (:func:`rms.db.errors.driver_errors`).
"""

from __future__ import annotations

from typing import Any, TypeAlias

import psycopg
from psycopg import sql
from sqlalchemy import Connection

__all__ = ["PgConnection", "PgCursor", "driver_connection", "sql"]

#: psycopg's connection and cursor, as the tools annotate them.
PgConnection: TypeAlias = psycopg.Connection[Any]
PgCursor: TypeAlias = psycopg.Cursor[Any]


def driver_connection(conn: Connection) -> PgConnection:
    """The psycopg connection under a SQLAlchemy connection of a PostgreSQL engine."""
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver
