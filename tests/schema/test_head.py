"""The head schema built without Alembic is the one the history builds, byte for byte."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

import psycopg
import pytest
from sqlalchemy import create_engine

from rms.devtools.pgcluster import find_pg_bin
from rms.schema.head import HEAD_REVISION, create_head_schema, stored_revision
from rms.schema.migrations import head_revision, upgrade
from tests.pg import libpq
from tests.schema.catalog import pg_catalog


def _schema_dump(url: str) -> str:
    """``pg_dump --schema-only`` of a database, without the per-run ``\\restrict`` keys."""
    out = subprocess.run(
        [str(find_pg_bin() / "pg_dump"), "--schema-only", "--no-owner", libpq(url)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return "\n".join(
        line for line in out.splitlines() if not line.startswith(("\\restrict", "\\unrestrict"))
    )


def test_head_revision_is_alembics_head() -> None:
    assert head_revision() == HEAD_REVISION


def test_created_head_schema_is_the_one_the_history_builds(
    create_pg_database: Callable[[], str],
) -> None:
    by_history, by_models = create_pg_database(), create_pg_database()
    history_engine = create_engine(by_history)
    models_engine = create_engine(by_models)
    try:
        upgrade(history_engine)
        with models_engine.begin() as conn:
            create_head_schema(conn)
        with history_engine.connect() as a, models_engine.connect() as b:
            assert pg_catalog(a) == pg_catalog(b)
    finally:
        history_engine.dispose()
        models_engine.dispose()
    with psycopg.connect(libpq(by_models)) as conn:
        assert stored_revision(conn.cursor()) == HEAD_REVISION
    # Column order, comments, ownership-free DDL: everything pg_dump would restore.
    assert _schema_dump(by_models) == _schema_dump(by_history)


@pytest.mark.parametrize(
    ("statements", "expected"),
    [
        ([], None),
        (["CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)"], None),
        (
            [
                "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)",
                "INSERT INTO alembic_version VALUES ('0001')",
            ],
            "0001",
        ),
        (
            [
                "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)",
                "INSERT INTO alembic_version VALUES ('0001'), ('0002')",
            ],
            None,
        ),
    ],
    ids=["no-table", "no-row", "one-row", "two-rows"],
)
def test_stored_revision(
    create_pg_database: Callable[[], str], statements: list[str], expected: str | None
) -> None:
    with psycopg.connect(libpq(create_pg_database())) as conn:
        for statement in statements:
            conn.execute(statement)
        assert stored_revision(conn.cursor()) == expected
