"""Portfolio summaries: one month, and a year month by month."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy.orm import Session

from rms.api.deps import database
from rms.api.schemas import NO_NUL_PATTERN, GraphOut, Month, SummaryOut, Year, problem_responses
from rms.db.database import Database
from rms.domain.portfolio import year_total
from rms.repo import crud
from rms.repo.resources import RESOURCES
from rms.repo.summary import month_summary, year_graph

__all__ = ["summary_router"]

AccountFilter = Annotated[
    str | None,
    Query(min_length=1, max_length=100, pattern=NO_NUL_PATTERN, description="only this account"),
]


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

    return router
