"""Portfolio summaries: one month, and a year month by month."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel
from sqlalchemy.orm import Session

from rms.api.deps import database
from rms.api.schemas import GraphOut, SummaryOut
from rms.db.database import Database
from rms.domain.holdings import Figures, LotRow
from rms.domain.portfolio import year_total
from rms.http.problems import problem_responses
from rms.http.values import NO_NUL_PATTERN, Month, Year
from rms.repo import crud
from rms.repo.holdings import account_holdings
from rms.repo.resources import RESOURCES
from rms.repo.summary import month_summary, year_graph

__all__ = ["summary_router"]

AccountFilter = Annotated[
    str | None,
    Query(min_length=1, max_length=100, pattern=NO_NUL_PATTERN, description="only this account"),
]


class LotOut(BaseModel):
    trade_id: str
    quantity: int
    buy: float
    buy_date: datetime
    sell: float | None
    sell_date: datetime | None
    cost_basis: float
    unrealised_gain: float | None
    realised_gain: float | None
    yield_on_cost: float | None


class SymbolOut(BaseModel):
    symbol: str
    last_price: float | None
    average_cost: float | None
    figures: Figures
    open_lots: list[LotOut]
    sold_lots: list[LotOut]


class HoldingsOut(BaseModel):
    account_id: str
    year: int
    total: Figures
    symbols: list[SymbolOut]


def _lot(lot: LotRow) -> dict[str, Any]:
    return {
        "trade_id": lot.trade_id,
        "quantity": lot.quantity,
        "buy": lot.buy,
        "buy_date": lot.buy_date,
        "sell": lot.sell,
        "sell_date": lot.sell_date,
        "cost_basis": lot.cost_basis,
        "unrealised_gain": lot.unrealised_gain,
        "realised_gain": lot.realised_gain,
        "yield_on_cost": lot.yield_on_cost,
    }


def _check_account(session: Session, account_id: str | None) -> None:
    if account_id is not None:
        crud.get_row(session, RESOURCES["accounts"], account_id)


def summary_router() -> APIRouter:
    router = APIRouter(
        prefix="/api/summary", tags=["summary"], responses=problem_responses(400, 404, 422, 503)
    )

    @router.get("", response_model=SummaryOut)
    def summary(
        month: Annotated[Month, Query()],
        db: Annotated[Database, Depends(database)],
        account_id: AccountFilter = None,
    ) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            _check_account(session, account_id)
            result = month_summary(session, month, account_id)
            return {**result.__dict__, "open_cost_basis_total": result.open_cost_basis_total}

        return db.run(work)

    @router.get("/graph", response_model=GraphOut)
    def graph(
        year: Annotated[Year, Query(description="calendar year, YYYY (1900 to 2199)")],
        db: Annotated[Database, Depends(database)],
        account_id: AccountFilter = None,
    ) -> dict[str, Any]:
        def work(session: Session) -> dict[str, Any]:
            _check_account(session, account_id)
            months = year_graph(session, year, account_id)
            total = year_total(months).__dict__
            return {
                "year": year,
                "account_id": account_id,
                "months": [m.__dict__ for m in months],
                "total": {k: v for k, v in total.items() if k != "month"},
            }

        return db.run(work)

    @router.get("/holdings", response_model=HoldingsOut)
    def holdings(
        account_id: Annotated[
            str,
            Query(min_length=1, max_length=100, pattern=NO_NUL_PATTERN, description="the account"),
        ],
        db: Annotated[Database, Depends(database)],
        year: Annotated[
            Year | None, Query(description="the year of 'this year' (default: the current one)")
        ] = None,
    ) -> dict[str, Any]:
        """An account's lots by symbol with cost basis, gains, income and yield on cost;
        the account page shows the same figures."""
        chosen = year if year is not None else datetime.now(UTC).year

        def work(session: Session) -> dict[str, Any]:
            _check_account(session, account_id)
            found = account_holdings(session, account_id, chosen)
            return {
                "account_id": account_id,
                "year": chosen,
                "total": found.total,
                "symbols": [
                    {
                        "symbol": t.symbol,
                        "last_price": t.last_price,
                        "average_cost": t.average_cost,
                        "figures": t.figures,
                        "open_lots": [_lot(lot) for lot in t.open_lots],
                        "sold_lots": [_lot(lot) for lot in t.sold_lots],
                    }
                    for t in found.symbols
                ],
            }

        return db.run(work)

    return router
