"""Portfolio summaries computed by the database (sums and GROUP BY), not in Python."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Integer, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from rms.domain.portfolio import MonthFigures, MonthSummary, month_range, parse_month, year_range
from rms.schema.tables import DivDeposit, RiskGroup, Trade, Universe

__all__ = ["latest_month", "month_summary", "year_graph"]


class month_of(FunctionElement[int]):  # noqa: N801 - reads like the SQL function it is
    """The calendar month (1-12, UTC) of a timestamp column, on either dialect."""

    type = Integer()
    inherit_cache = True


@compiles(month_of, "postgresql")
def _month_pg(element: month_of, compiler: SQLCompiler, **kw: Any) -> str:
    # timestamp(3) without time zone holds UTC (rms.schema.types): no zone conversion, so
    # the session's TimeZone cannot move an instant into another month.
    arg = compiler.process(next(iter(element.clauses)), **kw)
    return f"CAST(EXTRACT(MONTH FROM {arg}) AS INTEGER)"


@compiles(month_of, "sqlite")
def _month_sqlite(element: month_of, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite holds ISO-8601 text in UTC (see rms.schema.types.UTCDateTime), which
    # strftime reads; epoch milliseconds (a file the application wrote with
    # timestampFormat 'unixepoch-ms') are read as such.
    arg = compiler.process(next(iter(element.clauses)), **kw)
    return (
        f"CAST(CASE WHEN typeof({arg}) IN ('integer', 'real') "
        f"THEN strftime('%m', {arg} / 1000, 'unixepoch') ELSE strftime('%m', {arg}) END "
        "AS INTEGER)"
    )


def _total(expr: Any) -> Any:
    return func.coalesce(func.sum(expr), 0.0)


def _deposit_conditions(
    start: datetime, end: datetime, account_id: str | None, dividends: bool
) -> list[ColumnElement[bool]]:
    conditions = [
        DivDeposit.deletedAt.is_(None),
        DivDeposit.date >= start,
        DivDeposit.date < end,
        DivDeposit.universeId.is_not(None) if dividends else DivDeposit.universeId.is_(None),
    ]
    if account_id is not None:
        conditions.append(DivDeposit.accountId == account_id)
    return conditions


def _sold_conditions(
    start: datetime, end: datetime, account_id: str | None
) -> list[ColumnElement[bool]]:
    conditions = [Trade.deletedAt.is_(None), Trade.sell_date >= start, Trade.sell_date < end]
    if account_id is not None:
        conditions.append(Trade.accountId == account_id)
    return conditions


def _held_conditions(end: datetime) -> list[ColumnElement[bool]]:
    """Lots held at the instant ``end``: bought before it and not sold before it (open, or
    sold at or after ``end``). A lot sold later still counts: what it was at ``end`` cannot
    depend on what happened afterwards."""
    return [
        Trade.deletedAt.is_(None),
        Trade.buy_date < end,
        or_(Trade.sell_date.is_(None), Trade.sell_date >= end),
    ]


_GAIN = (Trade.sell - Trade.buy) * Trade.quantity


def cents(total: Any) -> float:
    """A money total rounded to the cent: sums of doubles carry noise like 0.30000000000000004."""
    return round(float(total or 0.0), 2)


def month_summary(session: Session, month: str, account_id: str | None = None) -> MonthSummary:
    year, number = parse_month(month)
    start, end = month_range(year, number)
    deposits = session.scalar(
        select(_total(DivDeposit.amount)).where(*_deposit_conditions(start, end, account_id, False))
    )
    dividends = session.scalar(
        select(_total(DivDeposit.amount)).where(*_deposit_conditions(start, end, account_id, True))
    )
    gains = session.scalar(select(_total(_GAIN)).where(*_sold_conditions(start, end, account_id)))
    basis_query = (
        select(RiskGroup.name, _total(Trade.buy * Trade.quantity))
        .join(Universe, Universe.id == Trade.universeId)
        .join(RiskGroup, RiskGroup.id == Universe.risk_group_id)
        .where(*_held_conditions(end))
        .group_by(RiskGroup.name)
        .order_by(RiskGroup.name)
    )
    if account_id is not None:
        basis_query = basis_query.where(Trade.accountId == account_id)
    basis = {name: cents(total) for name, total in session.execute(basis_query)}
    return MonthSummary(
        month=f"{year:04d}-{number:02d}",
        account_id=account_id,
        deposits=cents(deposits),
        dividends=cents(dividends),
        capital_gains=cents(gains),
        open_cost_basis=basis,
    )


def year_graph(session: Session, year: int, account_id: str | None = None) -> list[MonthFigures]:
    """Deposits, dividends and capital gains for each month of ``year`` (12 entries)."""
    start, end = year_range(year)
    by_month: dict[int, dict[str, float]] = {m: {} for m in range(1, 13)}
    for kind, dividends in (("deposits", False), ("dividends", True)):
        month = month_of(DivDeposit.date)
        rows = session.execute(
            select(month, _total(DivDeposit.amount))
            .where(*_deposit_conditions(start, end, account_id, dividends))
            .group_by(month)
        )
        for number, total in rows:
            by_month[int(number)][kind] = cents(total)
    sold_month = month_of(Trade.sell_date)
    rows = session.execute(
        select(sold_month, _total(_GAIN))
        .where(*_sold_conditions(start, end, account_id))
        .group_by(sold_month)
    )
    for number, total in rows:
        by_month[int(number)]["capital_gains"] = cents(total)
    return [
        MonthFigures(month=f"{year:04d}-{number:02d}", **figures)
        for number, figures in by_month.items()
    ]


def latest_month(session: Session, before: datetime, account_id: str | None = None) -> str | None:
    """The latest month (``YYYY-MM``) with a live deposit, dividend, buy or sale dated before
    ``before``, or None when there is none: where the dashboard opens when no month is asked."""
    candidates = []
    for column, model in (
        (DivDeposit.date, DivDeposit),
        (Trade.buy_date, Trade),
        (Trade.sell_date, Trade),
    ):
        query = select(func.max(column)).where(model.deletedAt.is_(None), column < before)
        if account_id is not None:
            query = query.where(model.accountId == account_id)
        found = session.scalar(query)
        if found is not None:
            candidates.append(found)
    return max(candidates).strftime("%Y-%m") if candidates else None
