"""Column types shared by both dialects, stored the way the existing application stores them.

Instants (Prisma ``DateTime``) are the one type whose storage differs by dialect:

* **PostgreSQL**: ``timestamp(3) without time zone`` holding UTC, Prisma's own mapping. The
  type binds and reads *naive UTC* datetimes, so nothing depends on the session's
  ``TimeZone``: with ``timestamptz`` (revision 0001) every client whose driver reads through
  the session zone (Prisma's pg adapter among them) saw instants shifted by its offset.
* **SQLite**: fixed-width ISO-8601 text ``YYYY-MM-DDTHH:MM:SS.mmm+00:00``, exactly what
  Prisma 7's better-sqlite3 adapter writes (``toISOString()`` with ``Z`` replaced by
  ``+00:00``). Writing the application's own form means (a) the application reads our files
  without a conversion step, and (b) a text comparison between a value we wrote and one the
  application wrote (``WHERE "buy_date" >= ?``, on either side) orders correctly, because
  both have the same width and layout; with the old ``YYYY-MM-DD HH:MM:SS.ffffff`` form a
  space sorted before the application's ``T`` and same-day ranges went wrong.

Reading on SQLite accepts every form the application has left in its files, with the
application's own meaning (see :func:`parse_stored_instant`): INTEGER (or integral REAL)
epoch milliseconds (Prisma 6, and Prisma 7 with ``timestampFormat: 'unixepoch-ms'``), and
text ``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS[.fff]`` (``DEFAULT CURRENT_TIMESTAMP``), and
ISO-8601 with ``T`` and ``Z`` or an offset. Text without an offset is UTC, as Prisma reads it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeDecorator, TypeEngine

from rms.errors import DatabaseError

__all__ = [
    "SQLITE_INSTANT_GLOB",
    "UTCDateTime",
    "format_sqlite_instant",
    "parse_stored_instant",
    "to_utc_ms",
    "utcnow",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: A GLOB matching exactly the SQLite storage form (used to find values in other forms).
SQLITE_INSTANT_GLOB = (
    "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]"
    ".[0-9][0-9][0-9]+00:00"
)


def to_utc_ms(value: datetime) -> datetime:
    """The same instant in UTC, truncated to the millisecond (what every column keeps).

    A naive datetime is taken to be UTC already, which is what the existing application
    meant by every value it wrote without an offset.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.replace(microsecond=value.microsecond - value.microsecond % 1000)


def utcnow() -> datetime:
    """Now, in UTC, to the millisecond."""
    return to_utc_ms(datetime.now(UTC))


def format_sqlite_instant(value: datetime) -> str:
    """The SQLite storage form of an instant: ``2026-04-23T13:10:07.100+00:00`` (29 chars).

    Fields are zero-padded by hand (``strftime('%Y')`` does not pad years below 1000 on
    every platform), so the width is fixed for every year the columns accept.
    """
    v = to_utc_ms(value)
    return (
        f"{v.year:04d}-{v.month:02d}-{v.day:02d}T{v.hour:02d}:{v.minute:02d}:{v.second:02d}"
        f".{v.microsecond // 1000:03d}+00:00"
    )


def _bad(value: Any, why: str) -> DatabaseError:
    return DatabaseError(
        f"a DateTime column holds {value!r}, which is not an instant ({why})", value=value
    )


def parse_stored_instant(value: Any) -> datetime:
    """An instant (aware, UTC, milliseconds) from any form the application stores on SQLite.

    Numbers are epoch milliseconds, as Prisma's adapter reads them (``new Date(n)``). Text is
    parsed by :meth:`datetime.fromisoformat` (Python 3.11 reads ``T`` or a space, ``Z``,
    ``+HH:MM``, ``+HHMM`` and a date alone); text without an offset is UTC. Anything else
    raises :class:`rms.errors.DatabaseError` naming the value.
    """
    if isinstance(value, bool):
        raise _bad(value, "a boolean")
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise _bad(value, "not a finite number")
        try:
            return to_utc_ms(_EPOCH + timedelta(milliseconds=int(value)))
        except OverflowError:
            raise _bad(value, "epoch milliseconds outside the years 1 to 9999") from None
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _bad(value, "not ISO-8601 text") from None
        try:
            return to_utc_ms(parsed)
        except OverflowError:
            raise _bad(value, "outside the years 1 to 9999 in UTC") from None
    raise _bad(value, f"a {type(value).__name__}")


class _SQLiteInstantText(sqlite.DATETIME):
    """``DATETIME`` in the DDL (what Prisma declares, so its adapter knows the column is a
    DateTime), but no conversion by the dialect: :class:`UTCDateTime` writes and reads the
    text itself. Subclassing the dialect's own type keeps SQLAlchemy from adapting it back.
    """

    def bind_processor(self, dialect: Dialect) -> None:
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        return None


class UTCDateTime(TypeDecorator[datetime]):
    """An instant kept to the millisecond: aware UTC datetimes in Python on every dialect.

    Storage per dialect is described in this module's docstring.
    """

    impl = DateTime()
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SQLiteInstantText())  # type: ignore[no-untyped-call]
        if dialect.name == "postgresql":
            # Not through type_descriptor(): adapting to psycopg's own type drops precision.
            return postgresql.TIMESTAMP(precision=3, timezone=False)
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if dialect.name == "sqlite":
            return format_sqlite_instant(value)
        return to_utc_ms(value).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            # Naive values are UTC (timestamp without time zone); an aware one (a column
            # still timestamptz) is converted, never reinterpreted.
            return to_utc_ms(value)
        return parse_stored_instant(value)
