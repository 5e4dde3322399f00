"""Request and response models of the HTTP API.

Each resource declares its fields once (``XFields``); :class:`ResourceModels` derives the
create body (optional client id), the update body (every field optional, with the same
bounds, ``version`` required) and the response model from it. Value types bound what the
database can hold (32-bit integers, finite floats, text without NUL or lone surrogates,
instants as ISO-8601 text within 1900-2199), so no valid request can reach the database with
a value it would reject; their error messages say what to write, in words (the problem
handler turns a pattern into its :data:`PATTERN_HINTS` sentence).

The portfolio rules that involve several fields (a trade's sell date against its buy date)
are :mod:`rms.domain.rules`, checked by the repository on the row as stored; the models
state them in their descriptions, so the OpenAPI document shows them.

Responses are not held to the input bounds: a row written before today's rules, or by the
application, is shown as it is, with text made sendable (:func:`displayable`).
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
import types
from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    create_model,
    model_validator,
)
from pydantic.fields import FieldInfo

from rms.domain.rules import trade_sell_price
from rms.schema.types import to_utc_ms, utcnow

__all__ = [
    "FILTERS",
    "MODELS",
    "ReadOnlyModels",
    "ResourceModels",
    "TradeSaleIn",
    "TradeSaleOut",
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
#: The application's ``CusipCacheSource`` enum (rms.schema.tables.CUSIP_CACHE_SOURCES).
CusipSource = Literal["THIRTEENF", "YAHOO_FINANCE"]
#: Text in a response: whatever a row holds, sendable (see :func:`displayable`).
Text = Annotated[str, AfterValidator(displayable)]
#: A JSON value in a response (a setting), sendable.
ShownJson = Annotated[Any, AfterValidator(_displayable_json)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _StrictBody(BaseModel):
    """A JSON body: no unknown fields, and no coercion between JSON types.

    A JSON number is a number and a boolean a boolean: ``{"quantity": true}`` or
    ``{"expired": 1}`` or ``{"quantity": "5"}`` is refused, naming the field, instead of
    becoming one share, ``true`` or 5. (Text fields still read their own formats: dates are
    text.) The web pages' forms post text, so :func:`rms.web.forms.validate` validates with
    ``strict=False``; query parameters are text too, so the filters stay lax.
    """

    model_config = ConfigDict(extra="forbid", strict=True)


class AccountFields(BaseModel):
    name: Name


class RiskGroupFields(BaseModel):
    name: Name


class UniverseFields(BaseModel):
    symbol: Symbol
    distribution: Price
    distributions_per_year: PerYear
    last_price: Price
    risk_group_id: Id
    most_recent_sell_date: Instant | None = None
    most_recent_sell_price: Price | None = None
    ex_date: Instant | None = None
    expired: bool = False
    is_closed_end_fund: bool = True
    volatility_long: Note | None = None
    volatility_short: Note | None = None
    volatility_calculated_at: Instant | None = None


class TradeFields(BaseModel):
    """A lot bought (and, once sold, sold) in one account.

    Rules, checked for every create and every update (on the stored trade with the changes
    applied): `buy` > 0 and `quantity` > 0; `sell` and `sell_date` are set together or not
    at all (an open trade has neither: `sell` is null while the trade is open); `sell_date`
    is not before `buy_date`. A trade is created or reopened only on a live account and
    symbol.
    """

    universeId: Id = Field(
        description="the symbol's universe row (a create may name `symbol` instead)"
    )
    accountId: Id
    buy: PositivePrice = Field(description="price paid per share; more than 0")
    sell: Price | None = Field(
        default=None,
        description="price received per share, 0 or more; set together with `sell_date`; "
        "null while the trade is open",
    )
    buy_date: Instant
    quantity: PositiveCount = Field(description="shares bought; more than 0")
    sell_date: Instant | None = Field(
        default=None,
        description="when the lot was sold: not before `buy_date`; set together with `sell`",
    )


class TradeBySymbol(BaseModel):
    symbol: Symbol | None = Field(
        default=None,
        description="the symbol, instead of `universeId` (409 if the universe has no such "
        "live symbol; 422 if it is not the row `universeId` names)",
    )


class HolidayFields(BaseModel):
    date: Instant
    name: Name


class DivDepositTypeFields(BaseModel):
    name: Name


class DivDepositFields(BaseModel):
    """Money into (or out of) an account.

    A row with a `universeId` is a dividend of that symbol and is more than 0; a row without
    one is a deposit, which is not 0: a negative deposit is a withdrawal. Checked for every
    create and every update (on the stored row with the changes applied).
    """

    date: Instant
    amount: Amount = Field(
        description="not 0; more than 0 for a dividend (with `universeId`); a negative "
        "deposit (no `universeId`) is a withdrawal"
    )
    accountId: Id
    divDepositTypeId: Id
    universeId: Id | None = Field(default=None, description="the symbol of a dividend")


class ScreenerFields(BaseModel):
    symbol: Symbol
    distribution: Price
    distributions_per_year: PerYear
    last_price: Price
    risk_group_id: Id
    ex_date: Instant | None = None


class SettingFields(BaseModel):
    value: JsonValue


class CusipCacheFields(BaseModel):
    cusip: Cusip
    symbol: Symbol
    source: CusipSource
    resolvedAt: Instant = Field(default_factory=utcnow)
    # One "now" for both: two calls of utcnow can fall in different milliseconds.
    lastUsedAt: Instant = Field(default_factory=lambda data: data["resolvedAt"])


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class _TradeRead(_Read):
    @model_validator(mode="after")
    def _open_has_no_sell(self) -> _TradeRead:
        # The column holds 0 (or whatever an older writer left) while the trade is open.
        values = self.__dict__
        values["sell"] = trade_sell_price(values["sell"], values["sell_date"])
        return self


# Responses of the CUSIP tables, as the application writes them: plain text, not held to
# the input rules above (the archive and the audit are written by the application only).
class CusipCacheOut(_Read):
    id: Text
    cusip: Text
    symbol: Text
    source: Text
    resolvedAt: datetime
    lastUsedAt: datetime
    createdAt: datetime
    updatedAt: datetime


class CusipCacheArchiveOut(_Read):
    id: Text
    cusip: Text
    symbol: Text
    source: Text
    resolvedAt: datetime
    archivedAt: datetime
    reason: Text | None = None


class CusipCacheAuditOut(_Read):
    id: Text
    cusip: Text
    symbol: Text
    action: Text
    source: Text
    userId: Text | None = None
    reason: Text | None = None
    createdAt: datetime


SettingKey = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=ID_PATTERN)]


def _loose(annotation: Any) -> Any:
    """The response type of an input type: no bounds, any text made sendable.

    A response shows what a row holds, including rows written before today's rules or by
    the application (a zero price, a lower-case symbol, an old enum value): applying the
    input bounds there would turn reading such a row into a 500.
    """
    origin = get_origin(annotation)
    if origin is Annotated:
        return _loose(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        return Union[tuple(_loose(arg) for arg in get_args(annotation))]  # noqa: UP007
    if annotation is str or origin is Literal:
        return Text
    if annotation is Any:
        return ShownJson
    return annotation


def _declared(info: FieldInfo) -> Any:
    """A field's type with its constraints (pydantic keeps those apart, in ``metadata``)."""
    if not info.metadata:
        return info.annotation
    return Annotated[(info.annotation, *info.metadata)]


def _read_fields(fields: type[BaseModel]) -> dict[str, Any]:
    return {
        name: (
            _loose(info.annotation),
            Field(
                default=... if info.is_required() else None,
                description=info.description,
            ),
        )
        for name, info in fields.model_fields.items()
    }


class ResourceModels:
    """The create, update and response models derived from one resource's fields.

    ``versioned`` resources (soft delete, optimistic version) add ``deletedAt`` and
    ``version`` to responses and require ``version`` in updates; others (the CUSIP cache)
    have timestamps only. ``read`` replaces the derived response model when given.
    ``inputs`` are fields a write may carry that are not columns (a trade's ``symbol``);
    ``optional_on_create`` are fields a create may leave out because an input stands in
    for them (``universeId``, when ``symbol`` names it).
    """

    def __init__(
        self,
        prefix: str,
        fields: type[BaseModel],
        key: str = "id",
        *,
        versioned: bool = True,
        read: type[BaseModel] | None = None,
        read_base: type[BaseModel] = _Read,
        inputs: type[BaseModel] | None = None,
        optional_on_create: tuple[str, ...] = (),
    ) -> None:
        self.fields = fields
        self.key = key
        doc = fields.__doc__ if fields.__doc__ != BaseModel.__doc__ else None
        key_field: Any = (SettingKey, ...) if key != "id" else (Id | None, None)
        relaxed: dict[str, Any] = {
            name: (
                _declared(fields.model_fields[name]) | None,
                Field(default=None, description=fields.model_fields[name].description),
            )
            for name in optional_on_create
        }
        bases = (fields, inputs, _StrictBody) if inputs is not None else (fields, _StrictBody)
        self.create: type[BaseModel] = create_model(
            f"{prefix}Create", __base__=bases, __doc__=doc, **{key: key_field}, **relaxed
        )
        optional: dict[str, Any] = {
            name: (_declared(info), Field(default=None, description=info.description))
            for source in (fields, inputs)
            if source is not None
            for name, info in source.model_fields.items()
        }
        if versioned:
            optional["version"] = (
                Version,
                Field(description="the version this change was made against"),
            )
        self.update: type[BaseModel] = create_model(
            f"{prefix}Update", __base__=_StrictBody, __doc__=doc, **optional
        )
        managed: dict[str, Any] = {
            key: (Text, ...),
            "createdAt": (datetime, ...),
            "updatedAt": (datetime, ...),
        }
        if versioned:
            managed |= {"deletedAt": (datetime | None, None), "version": (int, ...)}
        self.read: type[BaseModel] = read or create_model(
            prefix, __base__=read_base, __doc__=doc, **_read_fields(fields), **managed
        )


class ReadOnlyModels:
    """A resource served read-only: its response model only."""

    def __init__(self, read: type[BaseModel]) -> None:
        self.read = read


MODELS: dict[str, ResourceModels | ReadOnlyModels] = {
    "accounts": ResourceModels("Account", AccountFields),
    "risk-groups": ResourceModels("RiskGroup", RiskGroupFields),
    "universe": ResourceModels("Universe", UniverseFields),
    "trades": ResourceModels(
        "Trade",
        TradeFields,
        read_base=_TradeRead,
        inputs=TradeBySymbol,
        optional_on_create=("universeId",),
    ),
    "div-deposit-types": ResourceModels("DivDepositType", DivDepositTypeFields),
    "div-deposits": ResourceModels("DivDeposit", DivDepositFields),
    "holidays": ResourceModels("Holiday", HolidayFields),
    "screener": ResourceModels("ScreenerEntry", ScreenerFields),
    "cusip-cache": ResourceModels(
        "CusipCacheEntry", CusipCacheFields, versioned=False, read=CusipCacheOut
    ),
    "cusip-cache-archive": ReadOnlyModels(CusipCacheArchiveOut),
    "cusip-cache-audit": ReadOnlyModels(CusipCacheAuditOut),
    "settings": ResourceModels("Setting", SettingFields, key="key"),
}


class TradeSaleIn(_StrictBody):
    """Sell an open lot, whole or in part, in one transaction.

    Selling the whole lot (no `quantity`, or the lot's quantity) closes it. Selling part of
    it splits the lot: the trade keeps its id, stays open with the rest of the shares and
    goes up one version; a new trade (same account, symbol, buy price and buy date) holds
    the shares sold, closed at `sell` and `sell_date`.
    """

    version: Version = Field(description="the version of the lot you read")
    sell: Price = Field(description="price received per share, 0 or more")
    sell_date: Instant = Field(description="when the shares were sold: not before the buy date")
    quantity: PositiveCount | None = Field(
        default=None, description="shares sold, at most the lot's quantity; default: all"
    )
    id: Id | None = Field(
        default=None,
        description="id of the new trade holding the shares sold (selling part of a lot); "
        "the service makes one when absent; repeating the sale with the same id is harmless",
    )


TradeRead: Any = MODELS["trades"].read


class TradeSaleOut(BaseModel):
    sold: TradeRead = Field(description="the closed trade: the shares sold")
    remaining: TradeRead | None = Field(
        description="the lot still open with the rest of the shares; null when all were sold"
    )


# --- list filters (query parameters); names match rms.repo.resources filters -------------


class _Paging(_Strict):
    """Paging every list has; subclasses add their filters."""

    limit: int = Field(default=50, ge=1, le=500, description="page size")
    offset: int = Field(default=0, ge=0, le=1_000_000_000, description="rows to skip")

    def conditions(self) -> dict[str, Any]:
        """The filter values (paging switches excluded)."""
        return self.model_dump(exclude={"limit", "offset", "include_deleted"}, exclude_none=True)


class _Filters(_Paging):
    """Paging and the soft-delete switch."""

    include_deleted: bool = Field(default=False, description="include soft-deleted rows")


class NameFilters(_Filters):
    name: FilterText | None = None


class UniverseFilters(_Filters):
    symbol: Symbol | None = None
    risk_group_id: Id | None = None
    expired: bool | None = None
    is_closed_end_fund: bool | None = None


class TradeFilters(_Filters):
    account_id: Id | None = None
    universe_id: Id | None = None
    symbol: Symbol | None = None
    status: Literal["open", "closed"] | None = None
    buy_date_from: Day | None = None
    buy_date_to: Day | None = None
    sell_date_from: Day | None = None
    sell_date_to: Day | None = None


class DivDepositFilters(_Filters):
    account_id: Id | None = None
    universe_id: Id | None = None
    symbol: Symbol | None = None
    div_deposit_type_id: Id | None = None
    kind: Literal["deposit", "dividend"] | None = None
    date_from: Day | None = None
    date_to: Day | None = None


class HolidayFilters(_Filters):
    date_from: Day | None = None
    date_to: Day | None = None


class ScreenerFilters(_Filters):
    symbol: Symbol | None = None
    risk_group_id: Id | None = None


class CusipFilters(_Paging):
    symbol: Symbol | None = None
    cusip: Cusip | None = None


class CusipCacheFilters(CusipFilters):
    source: CusipSource | None = None


class CusipAuditFilters(CusipFilters):
    action: Name | None = None


class SettingFilters(_Filters):
    prefix: FilterText | None = None


FILTERS: dict[str, type[_Paging]] = {
    "accounts": NameFilters,
    "risk-groups": NameFilters,
    "universe": UniverseFilters,
    "trades": TradeFilters,
    "div-deposit-types": NameFilters,
    "div-deposits": DivDepositFilters,
    "holidays": HolidayFilters,
    "screener": ScreenerFilters,
    "cusip-cache": CusipCacheFilters,
    "cusip-cache-archive": CusipFilters,
    "cusip-cache-audit": CusipAuditFilters,
    "settings": SettingFilters,
}

T = TypeVar("T")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class MonthFiguresOut(BaseModel):
    month: str
    deposits: float
    dividends: float
    capital_gains: float


class SummaryOut(MonthFiguresOut):
    account_id: str | None
    open_cost_basis: dict[Text, float]
    open_cost_basis_total: float


class YearTotalOut(BaseModel):
    """The sum of the year's twelve months (of their figures rounded to the cent)."""

    deposits: float
    dividends: float
    capital_gains: float


class GraphOut(BaseModel):
    year: int
    account_id: str | None
    months: list[MonthFiguresOut]
    total: YearTotalOut


class FieldProblem(BaseModel):
    field: str
    reason: str


class BlockingRows(BaseModel):
    """The rows that keep a row from being deleted (at most 20 ids shown)."""

    resource: str = Field(description="what they are, e.g. `open trades`")
    count: int
    ids: list[str]


class Problem(BaseModel):
    """RFC 9457 problem details, as every error response carries them.

    `type` is a page of this service (`/problems/<slug>`) that explains the problem and
    what to do about it; `field` names the offending field; `errors` lists every field
    problem of a request that had several.
    """

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None
    errors: list[FieldProblem] | None = None
    blocking: BlockingRows | None = None


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its local ``$defs`` written in place of their references.

    Pydantic's schema of :class:`Problem` refers to ``#/$defs/FieldProblem``; embedded in
    the OpenAPI document, such a reference points at nothing there (ReDoc fails on the whole
    document). The problem models are not recursive, so they can be inlined.
    """
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the problem responses a route can give."""
    descriptions = {
        400: "The request body is not JSON (or not a JSON document at all)",
        404: "No such row (or it is soft-deleted)",
        409: "Conflict: stale version, duplicate value, unknown reference, id reused with "
        "other content, or a row still in use (an account or symbol with open trades; "
        "`blocking` lists them)",
        422: "Invalid input; `field` names the offending field",
        503: "Database unavailable; retry after the Retry-After header",
    }
    return {
        status: {
            "description": descriptions[status],
            "content": {"application/problem+json": {"schema": copy.deepcopy(_problem_schema())}},
        }
        for status in statuses
    }


@functools.cache
def _problem_schema() -> dict[str, Any]:
    """:class:`Problem`'s JSON schema, made once: some 70 routes declare it (each a copy),
    and pydantic takes about as long to make it as FastAPI takes to build a route."""
    return _inlined(Problem.model_json_schema())
