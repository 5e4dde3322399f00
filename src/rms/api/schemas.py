"""The JSON API's own request and response models: a trade's sale, list filters, pages of
rows and the summaries.

The models of each resource (create, update, response) are :mod:`rms.http.models`, shared
with the pages; the value types are :mod:`rms.http.values`; the problem document is
:mod:`rms.http.problems`.
"""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from rms.http.models import MODELS, StrictBody
from rms.http.values import (
    Cusip,
    CusipSource,
    Day,
    FilterText,
    Id,
    Instant,
    Name,
    PositiveCount,
    Price,
    Symbol,
    Text,
    Version,
)

__all__ = ["FILTERS", "PageOut", "TradeSaleIn", "TradeSaleOut"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TradeSaleIn(StrictBody):
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
