"""Request and response models of the HTTP API.

Each resource declares its fields once (``XFields``); :func:`resource_models` derives the
create body (optional client id), the update body (every field optional, ``version``
required) and the response model from it. Value types bound what the database can hold
(32-bit integers, finite floats, no NUL characters, years 1900-2199), so no valid request
can reach the database with a value it would reject.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    create_model,
)

from rms.schema.types import to_utc_ms, utcnow

__all__ = [
    "FILTERS",
    "MODELS",
    "ReadOnlyModels",
    "ResourceModels",
]

INT32_MAX = 2_147_483_647
MIN_INSTANT = datetime(1900, 1, 1)
MAX_INSTANT = datetime(2199, 12, 31, 23, 59, 59, 999000)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    return value


def _instant(value: datetime) -> datetime:
    try:
        value = to_utc_ms(value)
    except OverflowError:  # e.g. 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise ValueError("must be between 1900-01-01 and 2199-12-31") from None
    if not MIN_INSTANT <= value.replace(tzinfo=None) <= MAX_INSTANT:
        raise ValueError("must be between 1900-01-01 and 2199-12-31")
    return value


def _day_text(value: object) -> object:
    """Only ``YYYY-MM-DD`` is a day: pydantic would also read a number as a Unix time."""
    if isinstance(value, str) and not (
        len(value) == 10 and value[4] == value[7] == "-" and value.replace("-", "").isdigit()
    ):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


def _day_range(value: date) -> date:
    if not MIN_INSTANT.date() <= value <= MAX_INSTANT.date():
        raise ValueError("must be between 1900-01-01 and 2199-12-31")
    return value


def _json_value(value: Any, depth: int = 0) -> Any:
    if depth > 32:
        raise ValueError("is nested too deeply (more than 32 levels)")
    if isinstance(value, str):
        _no_nul(value)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must not hold NaN or infinity")
    elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        raise ValueError("holds an integer too large to round-trip through JSON numbers")
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_nul(key)
            _json_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _json_value(item, depth + 1)
    return value


Id = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"),
]
# ``pattern`` (any non-space character) makes "not blank" part of the published schema.
Name = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"\S"),
    AfterValidator(_no_nul),
]
Symbol = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_upper=True, min_length=1, max_length=20, pattern=r"\S"
    ),
    AfterValidator(_no_nul),
]
Price = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
Amount = Annotated[float, Field(ge=-1e12, le=1e12, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0, le=INT32_MAX)]
PerYear = Annotated[int, Field(ge=0, le=366)]
Instant = Annotated[datetime, AfterValidator(_instant)]
#: A day in a query filter: ``YYYY-MM-DD`` within the supported range.
Day = Annotated[date, BeforeValidator(_day_text), AfterValidator(_day_range)]
Version = Annotated[int, Field(ge=1, le=INT32_MAX)]
JsonValue = Annotated[Any, AfterValidator(_json_value)]
#: Free text the application computes (e.g. the volatility figures); bounded, no NUL.
Note = Annotated[str, StringConstraints(max_length=10_000), AfterValidator(_no_nul)]
#: A CUSIP: nine characters, digits, letters and ``*@#`` (stored upper-case).
Cusip = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_upper=True,
        min_length=9,
        max_length=9,
        pattern=r"^[0-9A-Za-z*@#]+$",
    ),
]
#: The application's ``CusipCacheSource`` enum (rms.schema.tables.CUSIP_CACHE_SOURCES).
CusipSource = Literal["THIRTEENF", "YAHOO_FINANCE"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


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
    universeId: Id
    accountId: Id
    buy: Price
    sell: Price = 0.0
    buy_date: Instant
    quantity: Count
    sell_date: Instant | None = None


class HolidayFields(BaseModel):
    date: Instant
    name: Name


class DivDepositTypeFields(BaseModel):
    name: Name


class DivDepositFields(BaseModel):
    date: Instant
    amount: Amount
    accountId: Id
    divDepositTypeId: Id
    universeId: Id | None = None


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
    lastUsedAt: Instant = Field(default_factory=utcnow)


class _Read(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Responses of the CUSIP tables, as the application writes them: plain text, not held to
# the input rules above (the archive and the audit are written by the application only).
class CusipCacheOut(_Read):
    id: str
    cusip: str
    symbol: str
    source: str
    resolvedAt: datetime
    lastUsedAt: datetime
    createdAt: datetime
    updatedAt: datetime


class CusipCacheArchiveOut(_Read):
    id: str
    cusip: str
    symbol: str
    source: str
    resolvedAt: datetime
    archivedAt: datetime
    reason: str | None = None


class CusipCacheAuditOut(_Read):
    id: str
    cusip: str
    symbol: str
    action: str
    source: str
    userId: str | None = None
    reason: str | None = None
    createdAt: datetime


SettingKey = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
]


class ResourceModels:
    """The create, update and response models derived from one resource's fields.

    ``versioned`` resources (soft delete, optimistic version) add ``deletedAt`` and
    ``version`` to responses and require ``version`` in updates; others (the CUSIP cache)
    have timestamps only. ``read`` replaces the derived response model when given.
    """

    def __init__(
        self,
        prefix: str,
        fields: type[BaseModel],
        key: str = "id",
        *,
        versioned: bool = True,
        read: type[BaseModel] | None = None,
    ) -> None:
        self.fields = fields
        self.key = key
        key_field: Any = (SettingKey, ...) if key != "id" else (Id | None, None)
        self.create: type[BaseModel] = create_model(
            f"{prefix}Create", __base__=(fields, _Strict), **{key: key_field}
        )
        optional: dict[str, Any] = {
            name: (info.annotation, None) for name, info in fields.model_fields.items()
        }
        if versioned:
            optional["version"] = (
                Version,
                Field(description="the version this change was made against"),
            )
        self.update: type[BaseModel] = create_model(f"{prefix}Update", __base__=_Strict, **optional)
        managed: dict[str, Any] = {
            key: (str, ...),
            "createdAt": (datetime, ...),
            "updatedAt": (datetime, ...),
        }
        if versioned:
            managed |= {"deletedAt": (datetime | None, None), "version": (int, ...)}
        self.read: type[BaseModel] = read or create_model(
            prefix, __base__=(fields, _Read), **managed
        )


class ReadOnlyModels:
    """A resource served read-only: its response model only."""

    def __init__(self, read: type[BaseModel]) -> None:
        self.read = read


MODELS: dict[str, ResourceModels | ReadOnlyModels] = {
    "accounts": ResourceModels("Account", AccountFields),
    "risk-groups": ResourceModels("RiskGroup", RiskGroupFields),
    "universe": ResourceModels("Universe", UniverseFields),
    "trades": ResourceModels("Trade", TradeFields),
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
    name: Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_nul)] | None = None


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
    prefix: Annotated[str, StringConstraints(max_length=200), AfterValidator(_no_nul)] | None = None


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
    open_cost_basis: dict[str, float]
    open_cost_basis_total: float


class GraphOut(BaseModel):
    year: int
    account_id: str | None
    months: list[MonthFiguresOut]


class FieldProblem(BaseModel):
    field: str
    reason: str


class Problem(BaseModel):
    """RFC 9457 problem details, as every error response carries them."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None
    errors: list[FieldProblem] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the problem responses a route can give."""
    descriptions = {
        400: "The request body could not be parsed",
        404: "No such row (or it is soft-deleted)",
        409: "Conflict: stale version, duplicate value or id reuse",
        422: "Invalid input; `field` names the offending field",
        503: "Database unavailable; retry after the Retry-After header",
    }
    return {
        status: {
            "description": descriptions[status],
            "content": {"application/problem+json": {"schema": Problem.model_json_schema()}},
        }
        for status in statuses
    }
