"""One Alembic history for both dialects, in agreement with the models."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, inspect

from rms.schema.migrations import (
    current_revision,
    downgrade,
    head_revision,
    schema_diff,
    upgrade,
)
from rms.schema.tables import metadata


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
def test_upgrade_from_empty_matches_models(
    fresh_engine_factory: Callable[[str], Engine], backend_name: str
) -> None:
    engine = fresh_engine_factory(backend_name)
    assert upgrade(engine) == head_revision()
    with engine.connect() as conn:
        assert schema_diff(conn) == []
        assert set(inspect(conn).get_table_names()) >= set(metadata.tables)


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
def test_downgrade_to_base_and_back(
    fresh_engine_factory: Callable[[str], Engine], backend_name: str
) -> None:
    engine = fresh_engine_factory(backend_name)
    upgrade(engine)
    assert downgrade(engine, "base") is None
    with engine.connect() as conn:
        assert current_revision(conn) is None
        assert not set(inspect(conn).get_table_names()) & set(metadata.tables)
    assert upgrade(engine) == head_revision()


def test_diff_detects_a_drifted_database(fresh_engine_factory: Callable[[str], Engine]) -> None:
    """The agreement check can fail: a column missing from the database is reported."""
    engine = fresh_engine_factory("postgresql")
    upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql('ALTER TABLE universe DROP COLUMN "is_closed_end_fund"')
    with engine.connect() as conn:
        diff = schema_diff(conn)
    assert any("is_closed_end_fund" in str(item) for item in diff)


def test_postgres_types_are_exact(fresh_engine_factory: Callable[[str], Engine]) -> None:
    engine = fresh_engine_factory("postgresql")
    upgrade(engine)
    with engine.connect() as conn:
        columns = {c["name"]: c for c in inspect(conn).get_columns("trades")}
        uniques = inspect(conn).get_unique_constraints("universe")
        indexes = inspect(conn).get_indexes("universe")
    assert str(columns["buy"]["type"]) == "DOUBLE PRECISION"
    assert str(columns["buy_date"]["type"]) == "TIMESTAMP"  # reflected name
    assert columns["buy_date"]["type"].timezone is False
    assert columns["buy_date"]["type"].precision == 3
    assert str(columns["id"]["type"]) == "TEXT"
    assert columns["sell_date"]["nullable"] is True and columns["buy"]["nullable"] is False
    # Prisma's @unique is a unique index, not a constraint.
    assert uniques == []
    assert {(i["name"], tuple(i["column_names"])) for i in indexes if i["unique"]} == {
        ("universe_symbol_key", ("symbol",))
    }
