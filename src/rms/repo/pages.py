"""What the owner's pages (:mod:`rms.web`) show that the API's lists do not compute: the
live accounts and deposit types by name, sorted and numbered pages of an account's trades
and of its deposits or dividends, a symbol's universe row.

The figures the API also serves (summaries, the yearly graph) are not here: the pages call
:mod:`rms.repo.summary` exactly as ``/api/summary`` does. These queries read the same tables
with the same rules (soft-deleted rows never count; an open trade has no ``sell_date``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from rms.schema.tables import Account, DivDeposit, DivDepositType, Trade, Universe

__all__ = [
    "TRADE_SORTS",
    "TradePage",
    "accounts",
    "deposit_page",
    "deposit_types",
    "trade_page",
    "universe_id_of",
]

PAGE_SIZE = 20


def accounts(session: Session) -> list[Account]:
    return list(
        session.scalars(select(Account).where(Account.deletedAt.is_(None)).order_by(Account.name))
    )


def deposit_types(session: Session) -> list[DivDepositType]:
    return list(
        session.scalars(
            select(DivDepositType)
            .where(DivDepositType.deletedAt.is_(None))
            .order_by(DivDepositType.name)
        )
    )


_GAIN = (Trade.sell - Trade.buy) * Trade.quantity
TRADE_SORTS: dict[str, Any] = {
    "buy_date": Trade.buy_date,
    "sell_date": Trade.sell_date,
    "symbol": Universe.symbol,
    "quantity": Trade.quantity,
    "buy": Trade.buy,
    "gain": _GAIN,
}


@dataclass(frozen=True)
class TradePage:
    rows: list[tuple[Trade, str]]
    total: int
    page: int
    pages: int


def _pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def trade_page(
    session: Session,
    account_id: str,
    *,
    status: Literal["all", "open", "closed"],
    symbol: str | None,
    sort: str,
    descending: bool,
    page: int,
) -> TradePage:
    conditions: list[ColumnElement[bool]] = [
        Trade.accountId == account_id,
        Trade.deletedAt.is_(None),
    ]
    if status == "open":
        conditions.append(Trade.sell_date.is_(None))
    elif status == "closed":
        conditions.append(Trade.sell_date.is_not(None))
    if symbol:
        conditions.append(Universe.symbol == symbol.upper())
    joined = select(Trade, Universe.symbol).join(Universe, Universe.id == Trade.universeId)
    total = session.scalar(
        select(func.count())
        .select_from(Trade)
        .join(Universe, Universe.id == Trade.universeId)
        .where(*conditions)
    )
    column = TRADE_SORTS[sort]
    order = column.desc().nulls_last() if descending else column.asc().nulls_last()
    pages = _pages(total or 0)
    page = min(max(page, 1), pages)
    rows = session.execute(
        joined.where(*conditions)
        .order_by(order, Trade.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return TradePage([(t, s) for t, s in rows], total or 0, page, pages)


@dataclass(frozen=True)
class DepositRow:
    deposit: DivDeposit
    symbol: str | None
    type_name: str


@dataclass(frozen=True)
class DepositPage:
    rows: list[DepositRow]
    total: int
    page: int
    pages: int


def deposit_page(session: Session, account_id: str, *, dividends: bool, page: int) -> DepositPage:
    conditions: list[ColumnElement[bool]] = [
        DivDeposit.accountId == account_id,
        DivDeposit.deletedAt.is_(None),
        DivDeposit.universeId.is_not(None) if dividends else DivDeposit.universeId.is_(None),
    ]
    total = session.scalar(select(func.count()).select_from(DivDeposit).where(*conditions)) or 0
    pages = _pages(total)
    page = min(max(page, 1), pages)
    rows = session.execute(
        select(DivDeposit, Universe.symbol, DivDepositType.name)
        .outerjoin(Universe, Universe.id == DivDeposit.universeId)
        .join(DivDepositType, DivDepositType.id == DivDeposit.divDepositTypeId)
        .where(*conditions)
        .order_by(DivDeposit.date.desc(), DivDeposit.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return DepositPage([DepositRow(*row) for row in rows], total, page, pages)


def universe_id_of(session: Session, symbol: str) -> str | None:
    """The live universe row of ``symbol`` (as typed, then upper case), or None."""
    for candidate in dict.fromkeys((symbol, symbol.upper())):
        found = session.scalar(
            select(Universe.id).where(Universe.symbol == candidate, Universe.deletedAt.is_(None))
        )
        if found is not None:
            return str(found)
    return None


def symbol_name(session: Session, universe_id: str | None) -> str:
    """The symbol of a universe row ('' for none; the row may be soft-deleted)."""
    if universe_id is None:
        return ""
    return session.scalar(select(Universe.symbol).where(Universe.id == universe_id)) or "?"


def symbol_of(session: Session, trade_id: str) -> str:
    """The symbol of a trade's universe row."""
    universe_id = session.scalar(select(Trade.universeId).where(Trade.id == trade_id))
    return symbol_name(session, universe_id)
