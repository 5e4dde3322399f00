"""Exact conversion of SQLite values (as the application left them) to PostgreSQL values.

Every rule either produces a value that means exactly the same thing in PostgreSQL, or
raises :class:`BadValue` with a reason; nothing is rounded, truncated or guessed.

DateTime columns hold, mixed in one column:

* INTEGER epoch **milliseconds** (what Prisma writes), or epoch **seconds** (hand-written
  rows). The magnitude decides: ``abs(v) < 100_000_000_000`` is seconds (that bound is
  1973-03-03 in milliseconds and the year 5138 in seconds, so no plausible portfolio date is
  ambiguous; a millisecond value from before March 1973 would be misread, which is
  documented in docs/migration.md). A REAL holding an integral number is treated the same;
  a REAL with a fraction is refused (it could be a Julian day or fractional seconds).
* TEXT ``YYYY-MM-DD`` (midnight UTC), ``YYYY-MM-DD HH:MM[:SS[.fff]]``, the same with ``T``,
  with ``Z`` or a ``+HH:MM``/``+HHMM``/``+HH`` offset. Text without an offset is UTC, which
  is what the application meant. A fraction finer than a millisecond is refused unless its
  extra digits are zeros, because the target keeps milliseconds.

Instants are carried as integer epoch milliseconds (exact), the loader sends them to
PostgreSQL as binary ``timestamp`` (UTC) and the checksums render them as integers.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from rms.transfer.spec import ColumnSpec, Kind

__all__ = [
    "MAX_MS",
    "MIN_MS",
    "SECONDS_LIMIT",
    "BadText",
    "BadValue",
    "converter",
    "parse_instant_text",
    "to_epoch_ms",
]

SECONDS_LIMIT = 100_000_000_000
#: 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: what both Python and PostgreSQL hold.
MIN_MS = -62_135_596_800_000
MAX_MS = 253_402_300_799_999
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
#: Integers beyond this are not all exactly representable as a double.
EXACT_INT_FLOAT = 2**53

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_TEXT_INSTANT = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?"
    r" ?(Z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.ASCII,
)
_INTEGER_TEXT = re.compile(r"-?\d{1,18}", re.ASCII)


class BadValue(Exception):  # noqa: N818 - a signal inside the converter, not an API error
    """A value that cannot be converted exactly; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadText:
    """TEXT that is not valid UTF-8 (read with a checking text factory), kept as bytes."""

    __slots__ = ("raw",)

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def __repr__(self) -> str:
        return f"BadText({self.raw!r})"


def _describe_type(value: Any) -> str:
    if isinstance(value, BadText):
        return "text that is not valid UTF-8"
    if isinstance(value, bytes):
        return "a BLOB"
    if isinstance(value, str):
        return "text"
    if isinstance(value, float):
        return "a REAL"
    if isinstance(value, int):
        return "an INTEGER"
    return type(value).__name__


def to_epoch_ms(value: Any) -> int:
    """Epoch milliseconds of a DateTime cell in any of the forms the application left."""
    if type(value) is int:
        ms = value * 1000 if -SECONDS_LIMIT < value < SECONDS_LIMIT else value
    elif type(value) is str:
        ms = parse_instant_text(value)
    elif type(value) is float:
        if not math.isfinite(value) or not value.is_integer():
            raise BadValue("a REAL with a fraction is not an exact instant")
        return to_epoch_ms(int(value))
    else:
        raise BadValue(f"{_describe_type(value)} is not a date")
    if not MIN_MS <= ms <= MAX_MS:
        raise BadValue("instant outside the years 1 to 9999")
    return ms


@lru_cache(maxsize=65536)
def parse_instant_text(text: str) -> int:
    """Epoch milliseconds of a TEXT instant (cached: real files repeat the same strings)."""
    if _INTEGER_TEXT.fullmatch(text):
        return to_epoch_ms(int(text))
    match = _TEXT_INSTANT.fullmatch(text)
    if match is None:
        raise BadValue("not a date in a known form")
    year, month, day, hour, minute, second, frac, offset = match.groups()
    millis = 0
    if frac:
        if frac[3:].strip("0"):
            raise BadValue("finer than a millisecond (the target keeps milliseconds)")
        millis = int(frac[:3].ljust(3, "0"))
    try:
        instant = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            tzinfo=UTC,
        )
    except ValueError as exc:
        raise BadValue(f"not a valid date ({exc})") from None
    ms = (instant - _EPOCH).days * 86_400_000 + (instant - _EPOCH).seconds * 1000 + millis
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            raise BadValue("not a valid UTC offset")
        ms -= sign * (hours * 60 + minutes) * 60_000
    if not MIN_MS <= ms <= MAX_MS:
        raise BadValue("instant outside the years 1 to 9999")
    return ms


def _text(value: Any) -> str:
    if type(value) is str:
        if "\x00" in value:
            raise BadValue("text contains a NUL character, which PostgreSQL cannot store")
        return value
    raise BadValue(f"{_describe_type(value)} where text is expected")


def _int(value: Any) -> int:
    if type(value) is int:
        if INT32_MIN <= value <= INT32_MAX:
            return value
        raise BadValue("integer outside the 32-bit range of the column")
    raise BadValue(f"{_describe_type(value)} where an integer is expected")


def _float(value: Any) -> float:
    if type(value) is float:
        return value
    if type(value) is int:
        if -EXACT_INT_FLOAT <= value <= EXACT_INT_FLOAT:
            return float(value)
        raise BadValue("integer too large to be an exact double")
    raise BadValue(f"{_describe_type(value)} where a number is expected")


def _bool(value: Any) -> bool:
    if value == 0 and type(value) is int:
        return False
    if value == 1 and type(value) is int:
        return True
    raise BadValue("a boolean must be 0 or 1")


def _reject_constant(name: str) -> Any:
    raise BadValue(f"JSON {name} is not valid JSON")


def _json(value: Any) -> str:
    text = _text(value)
    if "\\u0000" in text:
        raise BadValue("JSON contains \\u0000, which PostgreSQL jsonb cannot store")
    try:
        json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise BadValue(f"not valid JSON ({exc})") from None
    return text


def _enum(choices: tuple[str, ...]) -> Callable[[Any], str]:
    allowed = frozenset(choices)

    def convert(value: Any) -> str:
        text = _text(value)
        if text not in allowed:
            raise BadValue(f"{text!r} is not one of {', '.join(choices)}")
        return text

    return convert


_CONVERTERS: dict[Kind, Callable[[Any], Any]] = {
    "text": _text,
    "int": _int,
    "float": _float,
    "bool": _bool,
    "datetime": to_epoch_ms,
    "json": _json,
}


def converter(column: ColumnSpec) -> Callable[[Any], Any]:
    """The conversion function of one column (NULL handling included)."""
    convert = _enum(column.choices) if column.kind == "enum" else _CONVERTERS[column.kind]
    if column.nullable:

        def nullable(value: Any) -> Any:
            return None if value is None else convert(value)

        return nullable

    def not_null(value: Any) -> Any:
        if value is None:
            raise BadValue("NULL in a NOT NULL column")
        return convert(value)

    return not_null
