"""Our schema at the head is the application's own (Prisma's), plus our few additions.

PostgreSQL: a database made by our migrations and one made from the DDL Prisma writes for
the application's schema (``prisma_ddl``) have the same catalog, table by table, once our
additions are set aside. SQLite: the same against the application's own SQLite file.
"""

from __future__ import annotations

import copy
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine

from rms.schema.migrations import upgrade
from tests.schema.catalog import pg_catalog, sqlite_catalog
from tests.schema.prisma_ddl import OUR_COLUMNS, OUR_TABLES, PRISMA_POSTGRESQL_DDL

APP_SQLITE = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "prisma-history"
    / "22_add_volatility_columns_to_universe.db"
)


def _without_ours(tables: dict[str, Any], columns_key: str = "columns") -> dict[str, Any]:
    kept = {name: copy.deepcopy(t) for name, t in tables.items() if name not in OUR_TABLES}
    for table, column in OUR_COLUMNS:
        del kept[table][columns_key][column]
    return kept


def test_postgresql_catalog_equals_prismas(fresh_engine_factory: Callable[[str], Engine]) -> None:
    ours = fresh_engine_factory("postgresql")
    upgrade(ours)
    prisma = fresh_engine_factory("postgresql")
    with prisma.begin() as conn:
        conn.exec_driver_sql(PRISMA_POSTGRESQL_DDL)
    with ours.connect() as a, prisma.connect() as b:
        mine, theirs = pg_catalog(a), pg_catalog(b)
    assert mine["enums"] == theirs["enums"] == {"CusipCacheSource": ["THIRTEENF", "YAHOO_FINANCE"]}
    assert set(theirs["tables"]) == set(mine["tables"]) - OUR_TABLES
    trimmed = _without_ours(mine["tables"])
    for name, expected in theirs["tables"].items():
        assert trimmed[name] == expected, name
    # Our additions are what they say they are.
    for table, column in OUR_COLUMNS:
        assert mine["tables"][table]["columns"][column] == ("integer", True, "1")


def test_postgresql_ddl_details(fresh_engine_factory: Callable[[str], Engine]) -> None:
    """The points Prisma's client depends on, through information_schema."""
    engine = fresh_engine_factory("postgresql")
    upgrade(engine)
    with engine.connect() as conn:
        columns = {
            (t, c): (dtype, precision, udt, nullable, default)
            for t, c, dtype, precision, udt, nullable, default in conn.exec_driver_sql(
                """SELECT table_name, column_name, data_type, datetime_precision, udt_name,
                          is_nullable, column_default
                   FROM information_schema.columns WHERE table_schema = 'public'"""
            )
        }
        rules = {
            name: (delete, update)
            for name, delete, update in conn.exec_driver_sql(
                """SELECT constraint_name, delete_rule, update_rule
                   FROM information_schema.referential_constraints"""
            )
        }
    instants = [v for v in columns.values() if v[0].startswith("timestamp")]
    assert instants and {v[:2] for v in instants} == {("timestamp without time zone", 3)}
    assert columns[("trades", "buy")][0] == "double precision"
    assert columns[("trades", "quantity")][0] == "integer"
    assert columns[("universe", "expired")] == ("boolean", None, "bool", "NO", "false")
    assert columns[("universe", "volatility_long")][:4] == ("text", None, "text", "YES")
    assert columns[("cusip_cache", "source")][:3] == ("USER-DEFINED", None, "CusipCacheSource")
    assert columns[("accounts", "createdAt")][4] == "CURRENT_TIMESTAMP"
    assert columns[("accounts", "updatedAt")][4] is None
    assert columns[("cusip_cache", "lastUsedAt")][4] == "CURRENT_TIMESTAMP"
    assert columns[("trades", "version")][4] == "1"
    assert rules["divDeposits_universeId_fkey"] == ("SET NULL", "CASCADE")
    assert {v for k, v in rules.items() if k != "divDeposits_universeId_fkey"} == {
        ("RESTRICT", "CASCADE")
    }
    assert len(rules) == 7


def test_sqlite_schema_equals_the_applications(
    fresh_engine_factory: Callable[[str], Engine], tmp_path: Path
) -> None:
    engine = fresh_engine_factory("sqlite")
    upgrade(engine)
    app_file = shutil.copy(APP_SQLITE, tmp_path / "app.db")
    app = create_engine(f"sqlite:///{app_file}")
    with engine.connect() as a, app.connect() as b:
        mine, theirs = sqlite_catalog(a), sqlite_catalog(b)
    app.dispose()
    assert set(theirs) == set(mine) - OUR_TABLES
    trimmed = _without_ours(mine)
    for name, expected in theirs.items():
        assert trimmed[name] == expected, name


def test_sqlite_cusip_source_check(fresh_engine_factory: Callable[[str], Engine]) -> None:
    """Our one SQLite addition: the enum's values are enforced, as PostgreSQL's type does."""
    engine = fresh_engine_factory("sqlite")
    upgrade(engine)
    path = engine.url.database
    assert path
    con = sqlite3.connect(path)
    insert = (
        'INSERT INTO cusip_cache (id, cusip, symbol, source, "updatedAt") '
        "VALUES (?, '123456789', 'ABC', ?, '2026-01-01T00:00:00.000+00:00')"
    )
    con.execute(insert, ("ok", "YAHOO_FINANCE"))
    with pytest.raises(
        sqlite3.IntegrityError, match=r"CHECK constraint failed: cusip_cache_source_check$"
    ):
        con.execute(insert, ("bad", "OPENFIGI"))
    con.close()
