"""Column types shared by both dialects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.types import TypeDecorator

__all__ = ["UTCDateTime", "to_utc_ms", "utcnow"]


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


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware instant kept to the millisecond on every dialect.

    PostgreSQL stores ``timestamp with time zone``. SQLite has no such type, so the value is
    stored as naive UTC text (``YYYY-MM-DD HH:MM:SS.ffffff``), which sorts and compares
    correctly as text; reading it back attaches UTC again.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        instant = to_utc_ms(value)
        if dialect.name == "sqlite":
            return instant.replace(tzinfo=None)
        return instant

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        instant: datetime = value
        if instant.tzinfo is None:
            return instant.replace(tzinfo=UTC)
        return instant.astimezone(UTC)
