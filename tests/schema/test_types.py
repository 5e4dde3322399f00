"""Instants: the storage forms on each dialect, and every form the application leaves."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from rms.db.database import Database
from rms.db.engine import create_db_engine
from rms.errors import DatabaseError
from rms.repo import crud
from rms.repo.resources import RESOURCES
from rms.repo.summary import month_summary
from rms.schema.migrations import upgrade
from rms.schema.tables import Holiday
from rms.schema.types import (
    UTCDateTime,
    format_sqlite_instant,
    parse_stored_instant,
    to_utc_ms,
)
from rms.settings import load_settings


def T(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("stored", "instant"),
    [
        (1758316433622, T(2025, 9, 19, 21, 13, 53, 622000)),  # Prisma 6: epoch ms
        (1758316433622.0, T(2025, 9, 19, 21, 13, 53, 622000)),
        (-1000, T(1969, 12, 31, 23, 59, 59)),
        ("2026-04-23T13:10:07.100+00:00", T(2026, 4, 23, 13, 10, 7, 100000)),  # Prisma 7
        ("2025-09-14 12:50:14", T(2025, 9, 14, 12, 50, 14)),  # DEFAULT CURRENT_TIMESTAMP
        ("2024-01-15", T(2024, 1, 15)),
        ("2024-01-15T10:00:00Z", T(2024, 1, 15, 10)),
        ("2024-01-15T10:00:00.123456-05:00", T(2024, 1, 15, 15, 0, 0, 123000)),
        ("2024-01-15 10:00:00.250000", T(2024, 1, 15, 10, 0, 0, 250000)),  # revision 0001
    ],
)
def test_every_stored_form_reads_as_the_application_meant(
    stored: object, instant: datetime
) -> None:
    assert parse_stored_instant(stored) == instant


@pytest.mark.parametrize(
    ("stored", "why"),
    [
        ("yesterday", "not ISO-8601"),
        ("1758316433622", "not ISO-8601"),
        (True, "a boolean"),
        (float("nan"), "not a finite number"),
        (10**18, "outside the years"),
        (b"2024-01-01", "a bytes"),
        ("0001-01-01T00:00:00+01:00", "outside the years"),
    ],
)
def test_a_stored_value_that_is_no_instant_is_named(stored: object, why: str) -> None:
    with pytest.raises(DatabaseError, match=why) as info:
        parse_stored_instant(stored)
    assert repr(stored) in str(info.value)


def test_sqlite_form_is_fixed_width_and_orders_as_text() -> None:
    instants = [
        T(1900, 1, 1),
        T(1999, 12, 31, 23, 59, 59, 999000),
        datetime(2024, 3, 10, 1, 30, tzinfo=timezone(timedelta(hours=-5))),
        T(2024, 3, 10, 6, 30, 0, 5),
        T(2199, 12, 31, 23, 59, 59, 999999),
    ]
    texts = [format_sqlite_instant(i) for i in instants]
    assert texts[2] == "2024-03-10T06:30:00.000+00:00"
    assert texts[3] == "2024-03-10T06:30:00.000+00:00"  # truncated to the millisecond
    assert {len(t) for t in texts} == {29}
    assert sorted(texts) == texts
    assert [parse_stored_instant(t) for t in texts] == [to_utc_ms(i) for i in instants]


def test_binding_anything_but_a_datetime_is_refused() -> None:
    from sqlalchemy.dialects import sqlite

    with pytest.raises(TypeError, match="expected a datetime"):
        UTCDateTime().process_bind_param("2024-01-01", sqlite.dialect())


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_sqlite_form_is_what_prismas_adapter_writes_and_reads() -> None:
    """Prisma 7's better-sqlite3 adapter writes ``toISOString()`` with Z as +00:00 and
    reads text with ``new Date()``: the same form, the same instant, in real JavaScript."""
    instants = [T(1900, 1, 1), T(2026, 4, 23, 13, 10, 7, 100000), T(2199, 12, 31, 23, 59, 59)]
    ms = [int(i.timestamp() * 1000) for i in instants]
    ours = [format_sqlite_instant(i) for i in instants]
    script = (
        "const ms = JSON.parse(process.argv[1]), ours = JSON.parse(process.argv[2]);"
        "console.log(JSON.stringify({"
        "written: ms.map(m => new Date(m).toISOString().replace('Z', '+00:00')),"
        "read: ours.map(t => new Date(t).getTime())}))"
    )
    result = subprocess.run(
        ["node", "-e", script, json.dumps(ms), json.dumps(ours)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    out = json.loads(result.stdout)
    assert out == {"written": ours, "read": ms}


def test_sqlite_reads_rows_the_application_wrote(migrated_engines: dict[str, Engine]) -> None:
    engine = migrated_engines["sqlite"]
    forms = [1735084800123, "2024-12-26 10:00:00", "2024-12-27", "2024-12-28T10:00:00Z"]
    with engine.begin() as conn:
        for i, stored in enumerate(forms):
            conn.exec_driver_sql(
                'INSERT INTO holidays (id, date, name, "createdAt", "updatedAt") '
                "VALUES (?, ?, 'app', ?, ?)",
                (f"app-{i}", stored, stored, stored),
            )
        read = conn.execute(
            select(Holiday.date, Holiday.createdAt).where(Holiday.name == "app")
        ).all()
        conn.exec_driver_sql("DELETE FROM holidays WHERE name = 'app'")
    assert sorted(h.date for h in read) == [
        T(2024, 12, 25, 0, 0, 0, 123000),
        T(2024, 12, 26, 10),
        T(2024, 12, 27),
        T(2024, 12, 28, 10),
    ]
    assert all(h.createdAt == h.date for h in read)


def test_postgresql_instants_do_not_depend_on_the_time_zone(
    fresh_engine_factory: Callable[[str], Engine],
) -> None:
    """Server and session TimeZone America/New_York: the service reads what it wrote, other
    clients see UTC wall time, and a month summary stays in UTC months."""
    admin = fresh_engine_factory("postgresql")
    url = admin.url
    with admin.connect() as conn:
        conn.exec_driver_sql(f"ALTER DATABASE \"{url.database}\" SET TimeZone = 'America/New_York'")
        conn.commit()
    admin.dispose()
    engine = create_db_engine(load_settings(database_url=url.render_as_string(False)))
    upgrade(engine)
    db = Database(engine)
    instant = T(2024, 3, 10, 6, 30, 0, 123000)  # the morning New York moves its clocks
    spec = RESOURCES["div-deposits"]

    def write(s: Session) -> None:
        crud.create_row(s, RESOURCES["accounts"], {"id": "a", "name": "A"})
        crud.create_row(s, RESOURCES["div-deposit-types"], {"id": "t", "name": "Deposit"})
        for i, when in enumerate([instant, T(2024, 2, 1, 2, 0)]):  # 21:00 Jan 31 in New York
            crud.create_row(
                s,
                spec,
                {"id": f"d{i}", "date": when, "amount": 10.0, "accountId": "a",
                 "divDepositTypeId": "t", "universeId": None},
            )  # fmt: skip

    db.run(write)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW TimeZone").scalar() == "America/New_York"
        conn.exec_driver_sql("SET TIME ZONE 'America/New_York'")
        text = conn.exec_driver_sql("""SELECT date::text FROM "divDeposits" WHERE id = 'd0'""")
        assert text.scalar() == "2024-03-10 06:30:00.123"
    read = db.run(lambda s: crud.get_row(s, spec, "d0").date)
    assert read == instant
    february = db.run(lambda s: month_summary(s, "2024-02"))
    assert february.deposits == 10.0
    # A client connecting with its own zone (as Prisma's pg adapter would) sees UTC wall time.
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, options="-c TimeZone=Asia/Tokyo") as raw:
        (value,) = raw.execute("""SELECT date FROM "divDeposits" WHERE id = 'd0'""").fetchone()  # type: ignore[misc]
    assert value == instant.replace(tzinfo=None)
    engine.dispose()
