"""The value types of the service's requests and responses, and how their errors read.

Value types bound what the database can hold (32-bit integers, finite floats, text without
NUL or lone surrogates, instants as ISO-8601 text within 1900-2199), so no valid request can
reach the database with a value it would reject; their error messages say what to write, in
words (the problem handler turns a pattern into its :data:`PATTERN_HINTS` sentence).
Responses are not held to the input bounds: text a row holds is made sendable
(:func:`displayable`).

The API's models (:mod:`rms.http.models`, :mod:`rms.api.schemas`) and the pages' forms and
words (:mod:`rms.web`) use them alike.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from rms.schema.types import to_utc_ms

__all__ = [
    "DAY_FORMAT",
    "INSTANT_FORMAT",
    "MONTH_FORMAT",
    "PATTERN_HINTS",
    "Month",
    "Year",
    "displayable",
    "shown",
]

INT32_MAX = 2_147_483_647
MIN_INSTANT = datetime(1900, 1, 1)
MAX_INSTANT = datetime(2199, 12, 31, 23, 59, 59, 999000)
_RANGE = "between 1900-01-01 and 2199-12-31"

#: How instants are written, in the words every date error uses.
INSTANT_FORMAT = (
    "YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS[.fff]] with Z or an offset such as +02:00 "
    "(UTC when there is none), e.g. 2024-03-01 or 2024-03-01T14:30:00Z"
)
DAY_FORMAT = "YYYY-MM-DD, e.g. 2024-03-01"
MONTH_FORMAT = "YYYY-MM, e.g. 2024-03"
_INSTANT_SHAPE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"(?:[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})?)?"
)
_DAY_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_MONTH_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}")
MONTH_PATTERN = r"^(19|2[01])[0-9]{2}-(0[1-9]|1[0-2])$"
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"
CUSIP_PATTERN = r"^[0-9A-Za-z*@#]+$"
NOT_BLANK_PATTERN = r"\S"
NO_NUL_PATTERN = r"^[^\x00]+$"

#: What each pattern of the schema means, for error messages (no regular expression in them).
PATTERN_HINTS = {
    ID_PATTERN: "must start with a letter or digit and hold only letters, digits and _ . : -",
    CUSIP_PATTERN: "must be 9 characters: digits, letters and * @ #",
    NOT_BLANK_PATTERN: "must not be blank",
    NO_NUL_PATTERN: "must not contain the NUL character",
    MONTH_PATTERN: f"must be a month written {MONTH_FORMAT}, from 1900-01 to 2199-12",
}


def shown(value: object) -> str:
    """A value as an error message quotes it: short, and a number says it is one."""
    if isinstance(value, str):
        text = repr(value if len(value) <= 40 else value[:40] + "...")
        return f"got {text}"
    if isinstance(value, bool) or value is None:
        return f"got {json.dumps(value)}"
    if isinstance(value, int | float):
        return f"got the number {value!r}"
    return f"got a JSON {'object' if isinstance(value, dict) else 'array'}"


def _storable(value: str) -> str:
    """Text every database can hold: no NUL (PostgreSQL refuses it), valid Unicode.

    A JSON string may spell a lone surrogate (``"\\ud800"``); Python keeps it, but it has
    no UTF-8 form, so PostgreSQL refuses it and SQLite stores something no one can read
    back as text. Refused here, before anything is written.
    """
    if "\x00" in value:
        raise ValueError("must not contain the NUL character (\\u0000)")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            "must be valid Unicode text: it holds a lone surrogate (such as \\ud800), "
            "which cannot be stored"
        ) from None
    return value


def displayable(value: str) -> str:
    """Text as a response shows it: a lone surrogate (in a row written before these rules,
    or by another program) becomes U+FFFD, since it has no UTF-8 form to send."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in value)
    return value


def _displayable_json(value: Any) -> Any:
    if isinstance(value, str):
        return displayable(value)
    if isinstance(value, dict):
        return {displayable(str(k)): _displayable_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_displayable_json(item) for item in value]
    return value


def _in_range(value: datetime) -> datetime:
    try:
        value = to_utc_ms(value)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ValueError(f"must be {_RANGE}") from None
    if not MIN_INSTANT <= value.replace(tzinfo=None) <= MAX_INSTANT:
        raise ValueError(f"must be {_RANGE}, {shown(value.isoformat())}")
    return value


def _instant_text(value: object) -> datetime:
    """An instant from its text, and only from text (pydantic would read a number, or a
    string of digits, as a Unix time: ``"20240201"`` would be 1970-08-23)."""
    if isinstance(value, datetime):  # Python callers
        return _in_range(value)
    if not isinstance(value, str) or not _INSTANT_SHAPE.fullmatch(value):
        raise ValueError(f"must be a date or date-time written {INSTANT_FORMAT}; {shown(value)}")
    text = value.replace("t", "T").replace("z", "Z").replace(",", ".")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"is not a real date or time ({shown(value)}); write it {INSTANT_FORMAT}"
        ) from None
    return _in_range(parsed)


def _day_text(value: object) -> date:
    """A day: ``YYYY-MM-DD`` text only (pydantic would also read a number as a Unix time)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif isinstance(value, str) and _DAY_SHAPE.fullmatch(value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"is not a real date ({shown(value)}); write it {DAY_FORMAT}"
            ) from None
    else:
        raise ValueError(f"must be a date written {DAY_FORMAT}; {shown(value)}")
    if not MIN_INSTANT.date() <= day <= MAX_INSTANT.date():
        raise ValueError(f"must be {_RANGE}, {shown(value)}")
    return day


def _month_text(value: object) -> str:
    if not isinstance(value, str) or not _MONTH_SHAPE.fullmatch(value):
        raise ValueError(f"must be a month written {MONTH_FORMAT}; {shown(value)}")
    year, month = int(value[:4]), int(value[5:])
    if not 1 <= month <= 12:
        raise ValueError(f"has no month {month:02d} ({shown(value)}); write it {MONTH_FORMAT}")
    if not MIN_INSTANT.year <= year <= MAX_INSTANT.year:
        raise ValueError(f"must be between 1900-01 and 2199-12, {shown(value)}")
    return value


def _year_text(value: object) -> int:
    year: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        year = value
    elif isinstance(value, str) and len(value) == 4 and value.isascii() and value.isdigit():
        year = int(value)
    if year is None or not MIN_INSTANT.year <= year <= MAX_INSTANT.year:
        raise ValueError(f"must be a year written YYYY, from 1900 to 2199; {shown(value)}")
    return year


def _non_zero(value: float) -> float:
    if value == 0:
        raise ValueError("must not be 0 (a negative amount is a withdrawal)")
    return value


def _json_value(value: Any, depth: int = 0) -> Any:
    if depth > 32:
        raise ValueError("is nested too deeply (more than 32 levels)")
    if isinstance(value, str):
        _storable(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must not hold NaN or infinity")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        raise ValueError("holds an integer too large to round-trip through JSON numbers")
    elif isinstance(value, dict):
        for key, item in value.items():
            _storable(key)
            _json_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _json_value(item, depth + 1)
    return value


Id = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=ID_PATTERN),
]
# ``pattern`` (any non-space character) makes "not blank" part of the published schema.
Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=200, pattern=NOT_BLANK_PATTERN
    ),
    AfterValidator(_storable),
]
Symbol = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_upper=True, min_length=1, max_length=20, pattern=r"\S"
    ),
    AfterValidator(_storable),
]
#: Free text in a query filter: bounded, storable.
FilterText = Annotated[str, StringConstraints(max_length=200), AfterValidator(_storable)]
Price = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
PositivePrice = Annotated[float, Field(gt=0, le=1e12, allow_inf_nan=False)]
Amount = Annotated[
    float,
    Field(ge=-1e12, le=1e12, allow_inf_nan=False, json_schema_extra={"not": {"const": 0}}),
    AfterValidator(_non_zero),
]
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
PositiveCount = Annotated[int, Field(ge=1, le=INT32_MAX)]
PerYear = Annotated[int, Field(ge=0, le=366)]
#: An instant: ISO-8601 text within 1900-2199 (see INSTANT_FORMAT), kept to the millisecond.
Instant = Annotated[datetime, BeforeValidator(_instant_text)]
#: A day in a query filter: ``YYYY-MM-DD`` within the supported range.
Day = Annotated[date, BeforeValidator(_day_text)]
#: A calendar month, ``YYYY-MM`` (1900-01 to 2199-12).
Month = Annotated[
    str,
    BeforeValidator(_month_text),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": MONTH_PATTERN,
            "examples": ["2024-03"],
            "description": f"calendar month, {MONTH_FORMAT} (1900-01 to 2199-12)",
        }
    ),
]
#: A calendar year, ``YYYY`` (1900 to 2199).
Year = Annotated[int, BeforeValidator(_year_text), Field(ge=1900, le=2199, examples=[2024])]
Version = Annotated[int, Field(ge=1, le=INT32_MAX)]
JsonValue = Annotated[Any, AfterValidator(_json_value)]
#: Free text the application computes (e.g. the volatility figures); bounded, storable.
Note = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(_storable)]
#: A CUSIP: nine characters, digits, letters and ``*@#`` (stored upper-case).
Cusip = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_upper=True,
        min_length=9,
        max_length=9,
        pattern=CUSIP_PATTERN,
    ),
]
#: The application's ``CusipCacheSource`` enum (rms.schema.core.CUSIP_CACHE_SOURCES).
CusipSource = Literal["THIRTEENF", "YAHOO_FINANCE"]
#: Text in a response: whatever a row holds, sendable (see :func:`displayable`).
Text = Annotated[str, AfterValidator(displayable)]
#: A JSON value in a response (a setting), sendable.
ShownJson = Annotated[Any, AfterValidator(_displayable_json)]
