"""The schema history's head without loading Alembic: its revision, and a database's.

Importing Alembic and running the revisions takes about a second on the 2-core machines
this is measured on; a command that only needs to know "is this PostgreSQL database at the
head?" or to build the head schema in an empty one (``rms db migrate``) does not need them:

* :data:`HEAD_REVISION` is the newest revision of ``rms/schema/alembic/versions``
  (``tests/schema/test_head.py`` checks it against Alembic's own answer);
* :func:`stored_revision` reads a database's ``alembic_version`` the way Alembic does;
* :func:`create_head_schema` builds an empty database at the head from the tables and
  stamps it, the way Alembic's cookbook describes ("building an up to date database from
  scratch": ``create_all`` then ``stamp head``). The same test checks that the result is,
  by ``pg_dump --schema-only``, the schema ``alembic upgrade head`` builds.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

__all__ = ["HEAD_REVISION", "VERSION_TABLE", "create_head_schema", "stored_revision"]

#: The newest revision of the schema history.
HEAD_REVISION = "0003"
#: Alembic's bookkeeping table (its default name, in the search path's first schema).
VERSION_TABLE = "alembic_version"


def stored_revision(cur: Any) -> str | None:
    """The revision a PostgreSQL database is at (a DBAPI cursor on it); None without an
    ``alembic_version`` table or with other than exactly one row in it."""
    cur.execute(f"SELECT to_regclass('{VERSION_TABLE}') IS NOT NULL")
    row = cur.fetchone()
    if not row or not row[0]:
        return None
    cur.execute(f"SELECT version_num FROM {VERSION_TABLE}")  # noqa: S608
    found = cur.fetchall()
    return str(found[0][0]) if len(found) == 1 else None


def create_head_schema(conn: Connection) -> None:
    """Create every table of the head schema and stamp the database at the head.

    For an empty database, in the caller's transaction (nothing is committed here).
    """
    from sqlalchemy import create_mock_engine

    from rms.schema.core import metadata

    # The statements ``metadata.create_all(conn, checkfirst=False)`` executes, in its order,
    # compiled by the connection's own dialect, sent as one script: one round trip and one
    # simple-protocol message instead of one extended-protocol execute per statement
    # (docs/benchmarks.md, issue 31, step 7). SQLAlchemy still writes every statement.
    dialect = conn.dialect
    statements: list[str] = []

    def collect(element: Any, *_multiparams: Any, **_params: Any) -> None:
        statements.append(str(element.compile(dialect=dialect)).strip())

    metadata.create_all(create_mock_engine(conn.engine.url, collect), checkfirst=False)
    # As Alembic creates its table (name, type, key name) and stamps it.
    statements.append(
        f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL, "
        "CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
    )
    statements.append(
        f"INSERT INTO {VERSION_TABLE} (version_num) VALUES ('{HEAD_REVISION}')"  # noqa: S608
    )
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if dialect.name == "postgresql":
            # No parameters: psycopg sends the script as it is (several statements).
            cursor.execute(";\n".join(statements))
        else:  # sqlite3 (the test suites' databases) takes one statement per execute
            for statement in statements:
                cursor.execute(statement)
    finally:
        cursor.close()
