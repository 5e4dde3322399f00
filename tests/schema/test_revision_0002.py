"""Revision 0002 on databases holding data: every value kept up, and restored on the way down.

Rows are written at 0001 the way 0001's service stored them (through the 0001 column types,
reflected from the database; on SQLite also a file 0001's own service wrote), read back
through today's models after the upgrade, and compared value by value; after the downgrade
the raw rows must equal the raw rows before the upgrade, and the schema a fresh 0001's.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, Table, select

from rms.errors import SchemaMigrationError
from rms.schema.head import HEAD_REVISION
from rms.schema.migrations import current_revision, downgrade, schema_diff, upgrade
from rms.schema.tables import metadata
from rms.schema.types import UTCDateTime
from tests.schema.catalog import pg_catalog, sqlite_catalog

FIXTURE_0001 = Path(__file__).resolve().parents[1] / "fixtures" / "rms-0001" / "service-0001.db"
TABLES_0001 = [
    "accounts",
    "risk_group",
    "divDepositType",
    "holidays",
    "settings",
    "universe",
    "screener",
    "trades",
    "divDeposits",
]
CHECKBOXES = ("has_volitility", "objectives_understood", "graph_higher_before_2008")
STORAGE_FORM = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")


def T(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def _common(n: int, deleted: bool = False) -> dict[str, Any]:
    return {
        "createdAt": T(2024, 1, 1, 0, 0, 0, 1000 * n),
        "updatedAt": T(2025, 6, 30, 23, 59, 59, 999000),
        "deletedAt": T(2025, 7, 1, 12, 0, 0, 500000) if deleted else None,
        "version": n,
    }


def rows_0001() -> dict[str, list[dict[str, Any]]]:
    """One portfolio in 0001's tables: every table, every kind of value, ms instants."""
    return {
        "accounts": [
            {"id": "acc-1", "name": "Main ü 🚀", **_common(1)},
            {"id": "acc-2", "name": "Closed", **_common(2, deleted=True)},
        ],
        "risk_group": [{"id": "rg-1", "name": "Income", **_common(3)}],
        "divDepositType": [{"id": "dt-1", "name": "Dividend", **_common(4)}],
        "holidays": [{"id": "h-1", "date": T(2024, 12, 25), "name": "Christmas", **_common(5)}],
        "settings": [
            {"key": "theme", "value": {"mode": "dark", "n": [1, 2.5, None]}, **_common(6)}
        ],
        "universe": [
            {
                "id": "u-1", "distribution": 0.1 + 0.2, "distributions_per_year": 12,
                "last_price": 25.125, "most_recent_sell_date": T(2025, 3, 9, 6, 59, 59, 999000),
                "most_recent_sell_price": -0.0, "symbol": "PDI", "ex_date": None,
                "risk_group_id": "rg-1", "expired": True, "is_closed_end_fund": False,
                **_common(7),
            }
        ],
        "screener": [
            {
                "id": f"s-{i}", "symbol": f"SCR{i}", "distribution": 5e-324,
                "distributions_per_year": 4, "last_price": 1e300, "ex_date": T(2025, 1, 1 + i),
                "risk_group_id": "rg-1", "has_volitility": bool(i & 1),
                "objectives_understood": bool(i & 2), "graph_higher_before_2008": bool(i & 4),
                **_common(8 + i),
            }
            for i in range(8)
        ],
        "trades": [
            {
                "id": f"t-{i}", "universeId": "u-1", "accountId": "acc-1", "buy": 10.0 / 3,
                "sell": 11.0, "buy_date": T(2024, 3, 10, 6, 30, 0, 123000),
                "quantity": 2_147_483_647 - i,
                "sell_date": None if i else T(2024, 11, 3, 5, 30, 0, 500000), **_common(20 + i),
            }
            for i in range(3)
        ],
        "divDeposits": [
            {
                "id": "d-1", "date": T(2024, 12, 31, 23, 59, 59, 999000), "amount": 12.34,
                "accountId": "acc-1", "divDepositTypeId": "dt-1", "universeId": "u-1",
                **_common(30),
            },
            {
                "id": "d-2", "date": T(2024, 2, 1, 2, 0), "amount": 1000.0, "accountId": "acc-1",
                "divDepositTypeId": "dt-1", "universeId": None, **_common(31),
            },
        ],
    }  # fmt: skip


def _pk(table: str) -> str:
    return "key" if table == "settings" else "id"


def fill_0001(engine: Engine, rows: dict[str, list[dict[str, Any]]]) -> None:
    """Insert through the 0001 column types, as 0001's service did (naive UTC on SQLite)."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as conn:
        for name, table_rows in rows.items():
            table = Table(name, MetaData(), autoload_with=conn)
            values = [
                {
                    k: v.replace(tzinfo=None) if sqlite and isinstance(v, datetime) else v
                    for k, v in row.items()
                }
                for row in table_rows
            ]
            conn.execute(table.insert(), values)


def raw_rows(engine: Engine, tables: list[str]) -> dict[str, dict[Any, dict[str, Any]]]:
    """Every stored value as the driver returns it, by table and key."""
    found: dict[str, dict[Any, dict[str, Any]]] = {}
    with engine.connect() as conn:
        for name in tables:
            result = conn.exec_driver_sql(f'SELECT * FROM "{name}"')
            keys = list(result.keys())
            found[name] = {
                r[keys.index(_pk(name))]: dict(zip(keys, r, strict=True)) for r in result
            }
    return found


def model_rows(engine: Engine, tables: list[str]) -> dict[str, dict[Any, dict[str, Any]]]:
    """Every row read through today's models (instants aware UTC, booleans, JSON)."""
    found: dict[str, dict[Any, dict[str, Any]]] = {}
    with engine.connect() as conn:
        for name in tables:
            table = metadata.tables[name]
            found[name] = {
                row[_pk(name)]: dict(row) for row in conn.execute(select(table)).mappings()
            }
    return found


def _instant_columns(table: str) -> set[str]:
    return {c.name for c in metadata.tables[table].c if isinstance(c.type, UTCDateTime)}


def expected_from_raw(raw: dict[str, dict[Any, dict[str, Any]]], dialect: str) -> dict[str, Any]:
    """What the models must read after the upgrade, derived from the raw 0001 values."""
    expected: dict[str, Any] = {}
    for table, rows in raw.items():
        instants = _instant_columns(table)
        booleans = {c.name for c in metadata.tables[table].c if str(c.type) == "BOOLEAN"}
        out = {}
        for key, row in rows.items():
            new = {}
            for column, value in row.items():
                if column in CHECKBOXES:
                    continue
                if column in instants and value is not None:
                    value = (
                        datetime.fromisoformat(value).replace(tzinfo=UTC)
                        if dialect == "sqlite"
                        else value.astimezone(UTC)
                    )
                elif column in booleans and dialect == "sqlite":
                    value = bool(value)
                elif column == "value" and dialect == "sqlite":
                    value = json.loads(value)
                new[column] = value
            if table == "universe":
                new |= dict.fromkeys(
                    ("volatility_long", "volatility_short", "volatility_calculated_at")
                )
            out[key] = new
        expected[table] = out
    return expected


def archived_checkboxes(engine: Engine) -> dict[tuple[str, str], Any]:
    table = metadata.tables["rms_archive"]
    with engine.connect() as conn:
        rows = conn.execute(select(table)).mappings().all()
    assert {(r["origin"], r["table_name"]) for r in rows} <= {("alembic:0002", "screener")}
    return {(r["row_id"], r["column_name"]): r["value"] for r in rows}


def catalog(engine: Engine) -> Any:
    with engine.connect() as conn:
        return sqlite_catalog(conn) if engine.dialect.name == "sqlite" else pg_catalog(conn)


def _new_york(engine: Engine) -> None:
    """Server default TimeZone America/New_York for every later session on this database."""
    with engine.connect() as conn:
        conn.exec_driver_sql(
            f"ALTER DATABASE \"{engine.url.database}\" SET TimeZone = 'America/New_York'"
        )
        conn.commit()
    engine.dispose()


def _round_trip(engine: Engine, fresh_0001: Engine, fresh_head: Engine) -> None:
    """Upgrade, check every value; downgrade, check raw values and schema; upgrade again."""
    dialect = engine.dialect.name
    before = raw_rows(engine, TABLES_0001)
    checkboxes = {
        (key, column): bool(row[column])
        for key, row in before["screener"].items()
        for column in CHECKBOXES
    }
    expected = expected_from_raw(before, dialect)

    assert upgrade(engine) == HEAD_REVISION
    assert model_rows(engine, TABLES_0001) == expected
    assert archived_checkboxes(engine) == checkboxes
    with engine.connect() as conn:
        assert schema_diff(conn) == []
    assert catalog(engine) == catalog(fresh_head)
    if dialect == "sqlite":
        after = raw_rows(engine, TABLES_0001)
        for table, rows in after.items():
            for row in rows.values():
                for column in _instant_columns(table):
                    assert row[column] is None or STORAGE_FORM.fullmatch(row[column]), row

    assert downgrade(engine, "0001") == "0001"
    assert raw_rows(engine, TABLES_0001) == before
    assert catalog(engine) == catalog(fresh_0001)

    assert upgrade(engine) == HEAD_REVISION
    assert model_rows(engine, TABLES_0001) == expected
    assert archived_checkboxes(engine) == checkboxes


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
def test_upgrade_and_downgrade_keep_every_value(
    fresh_engine_factory: Callable[[str], Engine], backend_name: str
) -> None:
    engine, fresh_0001, fresh_head = (fresh_engine_factory(backend_name) for _ in range(3))
    if backend_name == "postgresql":
        # The conversion must not depend on the session's zone: run it all in New York's.
        _new_york(engine)
    upgrade(engine, "0001")
    upgrade(fresh_0001, "0001")
    upgrade(fresh_head)
    fill_0001(engine, rows_0001())
    _round_trip(engine, fresh_0001, fresh_head)


def test_a_file_written_by_the_0001_service(
    fresh_engine_factory: Callable[[str], Engine], tmp_path: Path
) -> None:
    path = shutil.copy(FIXTURE_0001, tmp_path / "rms.db")
    from rms.db.engine import create_db_engine
    from rms.settings import load_settings

    engine = create_db_engine(load_settings(database_url=f"sqlite:///{path}"))
    with engine.connect() as conn:
        assert current_revision(conn) == "0001"
    fresh_0001, fresh_head = fresh_engine_factory("sqlite"), fresh_engine_factory("sqlite")
    upgrade(fresh_0001, "0001")
    upgrade(fresh_head)
    counts = {t: len(rows) for t, rows in raw_rows(engine, TABLES_0001).items()}
    assert counts["trades"] > 100 and counts["screener"] == 4 and counts["settings"] == 1
    _round_trip(engine, fresh_0001, fresh_head)
    engine.dispose()
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []
    con.close()


def _sqlite_at_0001(fresh_engine_factory: Callable[[str], Engine]) -> tuple[Engine, str]:
    engine = fresh_engine_factory("sqlite")
    upgrade(engine, "0001")
    fill_0001(engine, rows_0001())
    path = engine.url.database
    assert path
    return engine, path


def test_sqlite_instants_in_the_applications_forms_are_rewritten(
    fresh_engine_factory: Callable[[str], Engine],
) -> None:
    engine, path = _sqlite_at_0001(fresh_engine_factory)
    forms = {
        "f-int": (1735084800123, T(2024, 12, 25, 0, 0, 0, 123000)),
        "f-space": ("2024-12-26 10:00:00", T(2024, 12, 26, 10)),
        "f-date": ("2024-12-27", T(2024, 12, 27)),
        "f-z": ("2024-12-28T10:00:00Z", T(2024, 12, 28, 10)),
        "f-offset": ("2024-12-29T10:00:00.5+02:00", T(2024, 12, 29, 8, 0, 0, 500000)),
        "f-prisma": ("2024-12-30T13:10:07.100+00:00", T(2024, 12, 30, 13, 10, 7, 100000)),
    }
    con = sqlite3.connect(path)
    for key, (stored, _) in forms.items():
        con.execute(
            'INSERT INTO holidays (id, date, name, "createdAt", "updatedAt", version) '
            "VALUES (?, ?, 'x', ?, ?, 1)",
            (key, stored, stored, "2024-01-01 00:00:00.000000"),
        )
    con.commit()
    con.close()
    upgrade(engine)
    read = model_rows(engine, ["holidays"])["holidays"]
    raw = raw_rows(engine, ["holidays"])["holidays"]
    for key, (_, instant) in forms.items():
        assert read[key]["date"] == read[key]["createdAt"] == instant
        assert STORAGE_FORM.fullmatch(raw[key]["date"]), raw[key]


def test_sqlite_value_that_is_no_instant_stops_the_upgrade(
    fresh_engine_factory: Callable[[str], Engine],
) -> None:
    engine, path = _sqlite_at_0001(fresh_engine_factory)
    con = sqlite3.connect(path)
    con.execute("UPDATE trades SET sell_date = 'next tuesday' WHERE id = 't-1'")
    con.commit()
    con.close()
    before = raw_rows(engine, TABLES_0001)
    with pytest.raises(SchemaMigrationError) as info:
        upgrade(engine)
    message = str(info.value)
    assert "trades.sell_date" in message and "'t-1'" in message and "next tuesday" in message
    assert info.value.details["row_id"] == "t-1"
    with engine.connect() as conn:
        assert current_revision(conn) == "0001"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    assert raw_rows(engine, TABLES_0001) == before


def test_sqlite_revision_refuses_to_run_with_foreign_keys_on(
    fresh_engine_factory: Callable[[str], Engine],
) -> None:
    """Alembic driven directly (foreign keys on): a clear refusal, not a half rebuild."""
    from alembic import command

    from rms.schema.migrations import alembic_config

    engine, _path = _sqlite_at_0001(fresh_engine_factory)
    with engine.begin() as conn, pytest.raises(SchemaMigrationError, match="foreign keys are on"):
        command.upgrade(alembic_config(conn), "head")
    with engine.connect() as conn:
        assert current_revision(conn) == "0001"


@pytest.mark.parametrize("backend_name", ["sqlite", "postgresql"])
def test_downgrade_refuses_to_drop_data_0001_has_no_place_for(
    fresh_engine_factory: Callable[[str], Engine], backend_name: str
) -> None:
    engine = fresh_engine_factory(backend_name)
    upgrade(engine, "0001")
    fill_0001(engine, rows_0001())
    upgrade(engine)
    cusip = metadata.tables["cusip_cache"]
    archive = metadata.tables["rms_archive"]
    universe = metadata.tables["universe"]
    with engine.begin() as conn:
        conn.execute(
            cusip.insert().values(id="c-1", cusip="123456789", symbol="PDI", source="THIRTEENF")
        )
        conn.execute(universe.update().values(volatility_long="high"))
        conn.execute(
            archive.insert().values(
                id="a-1", origin="migrate:run-1", table_name="universe", row_id="u-1",
                column_name="risk", value=3,
            )
        )  # fmt: skip
    with pytest.raises(SchemaMigrationError) as info:
        downgrade(engine, "0001")
    message = str(info.value)
    for part in ("cusip_cache: 1 rows", "universe.volatility_*: values in 1 rows", "rms_archive"):
        assert part in message
    with engine.connect() as conn:
        assert current_revision(conn) == HEAD_REVISION
        assert conn.execute(select(cusip.c.id)).scalars().all() == ["c-1"]
    assert downgrade(engine, "0001", discard=True) == "0001"
    assert raw_rows(engine, ["screener"])["screener"]["s-3"]["objectives_understood"]
