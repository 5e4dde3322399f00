"""An account's holdings: its lots and this year's dividends, read in one unit of work.

The rules (what a cost basis, a gain or a yield is) are :mod:`rms.domain.holdings`; the
account page and ``GET /api/summary/holdings`` both call :func:`account_holdings`.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rms.domain.holdings import Holdings, LotRow, holdings
from rms.domain.portfolio import year_range
from rms.schema.tables import DivDeposit, Trade, Universe

__all__ = ["account_holdings"]


def account_holdings(session: Session, account_id: str, year: int) -> Holdings:
    """The account's live lots grouped by symbol, with totals; income counts ``year``."""
    start, end = year_range(year)
    rows = session.execute(
        select(
            Trade.id,
            Trade.version,
            Universe.symbol,
            Trade.quantity,
            Trade.buy,
            Trade.buy_date,
            Trade.sell,
            Trade.sell_date,
            Universe.last_price,
            Universe.distribution,
            Universe.distributions_per_year,
        )
        .join(Universe, Universe.id == Trade.universeId)
        .where(Trade.accountId == account_id, Trade.deletedAt.is_(None))
    )
    lots = [
        LotRow(
            trade_id=row.id,
            version=row.version,
            symbol=row.symbol,
            quantity=row.quantity,
            buy=row.buy,
            buy_date=row.buy_date,
            sell=row.sell if row.sell_date is not None else None,
            sell_date=row.sell_date,
            last_price=row.last_price or 0.0,
            distribution=row.distribution or 0.0,
            distributions_per_year=row.distributions_per_year or 0,
        )
        for row in rows
    ]
    income = {
        symbol: float(total or 0.0)
        for symbol, total in session.execute(
            select(Universe.symbol, func.sum(DivDeposit.amount))
            .join(Universe, Universe.id == DivDeposit.universeId)
            .where(
                DivDeposit.accountId == account_id,
                DivDeposit.deletedAt.is_(None),
                DivDeposit.date >= start,
                DivDeposit.date < end,
            )
            .group_by(Universe.symbol)
        )
    }
    return holdings(account_id, year, lots, income)
