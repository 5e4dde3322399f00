"""What the service exposes for each table: key, references and list filters.

A filter is a function from the (already validated) query value to a SQL condition, so
the HTTP layer only has to name filters, never build SQL.

Most tables have ``deletedAt`` and ``version`` (soft delete, optimistic concurrency). The
application's CUSIP tables have neither: for ``cusip_cache`` a delete removes the row and
an update applies without a version check; ``cusip_cache_archive`` and
``cusip_cache_audit`` are the application's own records and are served read-only.

Trades and deposits carry the portfolio rules of :mod:`rms.domain.rules` (:class:`Rules`);
accounts and symbols cannot be deleted while they have open trades, nor a risk group while
live symbols or screener entries name it (:class:`DeleteGuard`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute

from rms.domain.rules import OPEN_TRADE_STORED_SELL, check_deposit, check_trade, is_open
from rms.schema.tables import (
    Account,
    CusipCache,
    CusipCacheArchive,
    CusipCacheAudit,
    DivDeposit,
    DivDepositType,
    Holiday,
    RiskGroup,
    Screener,
    Setting,
    Trade,
    Universe,
)

__all__ = ["RESOURCES", "DeleteGuard", "ResourceSpec", "Rules", "day_start"]

Filter = Callable[[Any], ColumnElement[bool]]


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime.combine(day, time(0), tzinfo=UTC)


def _on_or_after(column: InstrumentedAttribute[Any]) -> Filter:
    return lambda day: column >= day_start(day)


def _on_or_before(column: InstrumentedAttribute[Any]) -> Filter:
    return lambda day: column < day_start(day + timedelta(days=1))


def _equals(column: InstrumentedAttribute[Any]) -> Filter:
    return lambda value: column == value


def _contains(column: InstrumentedAttribute[Any]) -> Filter:
    def condition(value: str) -> ColumnElement[bool]:
        escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return column.ilike(f"%{escaped}%", escape="\\")

    return condition


def _symbol_of(column: InstrumentedAttribute[Any]) -> Filter:
    return lambda symbol: column.in_(select(Universe.id).where(Universe.symbol == symbol))


def _as_stored(row: dict[str, Any]) -> dict[str, Any]:
    return row


def _unchanged(
    merged: Mapping[str, Any], changes: Mapping[str, Any], creating: bool
) -> dict[str, Any]:
    return dict(changes)


def _never(merged: Mapping[str, Any], changes: Mapping[str, Any]) -> bool:
    return False


@dataclass(frozen=True)
class Rules:
    """The rules one table's rows obey, and how its columns differ from what the API shows.

    ``check`` sees the row as the API shows it (``view`` of the stored row, changes
    applied) and raises when a rule is broken. ``store`` turns the changes into column
    values, given the whole resulting row (``creating``: the changes are the whole new
    row). ``relink`` says whether a change must find every
    referenced row live again (a trade that is reopened must not be open on a deleted
    account).
    """

    check: Callable[[Mapping[str, Any]], None]
    view: Callable[[dict[str, Any]], dict[str, Any]] = _as_stored
    store: Callable[[Mapping[str, Any], Mapping[str, Any], bool], dict[str, Any]] = _unchanged
    relink: Callable[[Mapping[str, Any], Mapping[str, Any]], bool] = _never


@dataclass(frozen=True)
class DeleteGuard:
    """Rows of ``model`` whose ``column`` names the row being deleted, and that block it."""

    model: type[Any]
    column: str
    label: str
    blocking: Callable[[], list[ColumnElement[bool]]]


def _trade_view(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "sell": None} if is_open(row) else row


def _trade_store(
    merged: Mapping[str, Any], changes: Mapping[str, Any], creating: bool
) -> dict[str, Any]:
    stored = dict(changes)
    if is_open(merged) and (creating or "sell" in changes or "sell_date" in changes):
        stored["sell"] = OPEN_TRADE_STORED_SELL  # the column is NOT NULL
    return stored


def _trade_reopened(merged: Mapping[str, Any], changes: Mapping[str, Any]) -> bool:
    return "sell_date" in changes and is_open(merged)


def _open_trades() -> list[ColumnElement[bool]]:
    return [Trade.deletedAt.is_(None), Trade.sell_date.is_(None)]


def _live_symbols() -> list[ColumnElement[bool]]:
    return [Universe.deletedAt.is_(None)]


def _live_screener() -> list[ColumnElement[bool]]:
    return [Screener.deletedAt.is_(None)]


TRADE_RULES = Rules(check_trade, view=_trade_view, store=_trade_store, relink=_trade_reopened)


@dataclass(frozen=True)
class ResourceSpec:
    """How one table is served: its URL name, key column, references and filters."""

    name: str
    label: str
    model: type[Any]
    key: str = "id"
    references: Mapping[str, type[Any]] = field(default_factory=dict)
    filters: Mapping[str, Filter] = field(default_factory=dict)
    order_by: tuple[str, ...] = ("createdAt",)
    reference_data: bool = False
    #: False: list and get only (rows another program writes).
    writable: bool = True
    rules: Rules | None = None
    #: Rows elsewhere that keep a row of this table from being deleted.
    guards: tuple[DeleteGuard, ...] = ()
    #: The reference a write may name by its symbol instead (``symbol`` -> ``universeId``).
    symbol_field: str | None = None

    def has_column(self, name: str) -> bool:
        return name in self.model.__table__.c

    @property
    def soft_delete(self) -> bool:
        """Deleting sets ``deletedAt`` (and lists hide such rows); otherwise it removes."""
        return self.has_column("deletedAt")

    @property
    def versioned(self) -> bool:
        """Updates and deletes name the ``version`` they read (optimistic concurrency)."""
        return self.has_column("version")

    @property
    def key_column(self) -> InstrumentedAttribute[Any]:
        column: InstrumentedAttribute[Any] = getattr(self.model, self.key)
        return column

    def column(self, name: str) -> InstrumentedAttribute[Any]:
        column: InstrumentedAttribute[Any] = getattr(self.model, name)
        return column


def _trade_status(status: str) -> ColumnElement[bool]:
    return Trade.sell_date.is_(None) if status == "open" else Trade.sell_date.is_not(None)


def _deposit_kind(kind: str) -> ColumnElement[bool]:
    return (
        DivDeposit.universeId.is_(None) if kind == "deposit" else DivDeposit.universeId.is_not(None)
    )


RESOURCES: dict[str, ResourceSpec] = {
    spec.name: spec
    for spec in (
        ResourceSpec(
            "accounts",
            "account",
            Account,
            filters={"name": _contains(Account.name)},
            guards=(DeleteGuard(Trade, "accountId", "open trades", _open_trades),),
        ),
        ResourceSpec(
            "risk-groups",
            "risk group",
            RiskGroup,
            filters={"name": _contains(RiskGroup.name)},
            reference_data=True,
            guards=(
                DeleteGuard(Universe, "risk_group_id", "symbols", _live_symbols),
                DeleteGuard(Screener, "risk_group_id", "screener entries", _live_screener),
            ),
        ),
        ResourceSpec(
            "universe",
            "universe symbol",
            Universe,
            references={"risk_group_id": RiskGroup},
            filters={
                "symbol": _equals(Universe.symbol),
                "risk_group_id": _equals(Universe.risk_group_id),
                "expired": _equals(Universe.expired),
                "is_closed_end_fund": _equals(Universe.is_closed_end_fund),
            },
            order_by=("symbol",),
            guards=(DeleteGuard(Trade, "universeId", "open trades", _open_trades),),
        ),
        ResourceSpec(
            "trades",
            "trade",
            Trade,
            references={"universeId": Universe, "accountId": Account},
            filters={
                "account_id": _equals(Trade.accountId),
                "universe_id": _equals(Trade.universeId),
                "symbol": _symbol_of(Trade.universeId),
                "status": _trade_status,
                "buy_date_from": _on_or_after(Trade.buy_date),
                "buy_date_to": _on_or_before(Trade.buy_date),
                "sell_date_from": _on_or_after(Trade.sell_date),
                "sell_date_to": _on_or_before(Trade.sell_date),
            },
            order_by=("buy_date",),
            rules=TRADE_RULES,
            symbol_field="universeId",
        ),
        ResourceSpec(
            "div-deposit-types",
            "deposit type",
            DivDepositType,
            filters={"name": _contains(DivDepositType.name)},
            order_by=("name",),
            reference_data=True,
        ),
        ResourceSpec(
            "div-deposits",
            "deposit",
            DivDeposit,
            references={
                "accountId": Account,
                "divDepositTypeId": DivDepositType,
                "universeId": Universe,
            },
            filters={
                "account_id": _equals(DivDeposit.accountId),
                "universe_id": _equals(DivDeposit.universeId),
                "symbol": _symbol_of(DivDeposit.universeId),
                "div_deposit_type_id": _equals(DivDeposit.divDepositTypeId),
                "kind": _deposit_kind,
                "date_from": _on_or_after(DivDeposit.date),
                "date_to": _on_or_before(DivDeposit.date),
            },
            order_by=("date",),
            rules=Rules(check_deposit),
        ),
        ResourceSpec(
            "holidays",
            "holiday",
            Holiday,
            filters={
                "date_from": _on_or_after(Holiday.date),
                "date_to": _on_or_before(Holiday.date),
            },
            order_by=("date",),
            reference_data=True,
        ),
        ResourceSpec(
            "screener",
            "screener entry",
            Screener,
            references={"risk_group_id": RiskGroup},
            filters={
                "symbol": _equals(Screener.symbol),
                "risk_group_id": _equals(Screener.risk_group_id),
            },
            order_by=("symbol",),
        ),
        ResourceSpec(
            "cusip-cache",
            "CUSIP cache entry",
            CusipCache,
            filters={
                "symbol": _equals(CusipCache.symbol),
                "cusip": _equals(CusipCache.cusip),
                "source": _equals(CusipCache.source),
            },
            order_by=("cusip",),
        ),
        ResourceSpec(
            "cusip-cache-archive",
            "archived CUSIP cache entry",
            CusipCacheArchive,
            filters={
                "symbol": _equals(CusipCacheArchive.symbol),
                "cusip": _equals(CusipCacheArchive.cusip),
            },
            order_by=("archivedAt",),
            writable=False,
        ),
        ResourceSpec(
            "cusip-cache-audit",
            "CUSIP cache audit entry",
            CusipCacheAudit,
            filters={
                "symbol": _equals(CusipCacheAudit.symbol),
                "cusip": _equals(CusipCacheAudit.cusip),
                "action": _equals(CusipCacheAudit.action),
            },
            writable=False,
        ),
        ResourceSpec(
            "settings",
            "setting",
            Setting,
            key="key",
            filters={"prefix": lambda p: Setting.key.startswith(p, autoescape=True)},
            order_by=("key",),
            reference_data=True,
        ),
    )
}
