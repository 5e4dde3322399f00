"""The market calendar: is a day one the NYSE traded on?

The owner's holidays table comes first (it may hold closures the package does not know,
such as a day of mourning); the ``holidays`` package's NYSE calendar covers every other
year. Weekends are closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from rms.domain.portfolio import year_range
from rms.repo.resources import day_start
from rms.schema.tables import Holiday

__all__ = ["MarketHoliday", "market_closed", "year_holidays"]


@lru_cache(maxsize=64)
def _nyse(year: int) -> dict[date, str]:
    import holidays  # imported when a calendar is first asked for, not at start

    return dict(holidays.financial_holidays("NYSE", years=[year]).items())


def market_closed(session: Session, day: date) -> str | None:
    """Why the NYSE was closed on ``day`` ("a Saturday", "Christmas Day, a market
    holiday"), or None when it was open."""
    if day.weekday() >= 5:
        return f"a {day:%A}"
    name = session.scalar(
        select(Holiday.name).where(Holiday.date == day_start(day), Holiday.deletedAt.is_(None))
    )
    if name is None:
        name = _nyse(day.year).get(day)
    return None if name is None else f"{name}, a market holiday"


@dataclass(frozen=True)
class MarketHoliday:
    """A day the NYSE is closed, and where that comes from: the owner's holidays table
    (``"table"``) or the ``holidays`` package's NYSE calendar (``"calendar"``)."""

    day: date
    name: str
    source: Literal["table", "calendar"]
    #: the calendar's name for the day when the table names it differently
    calendar_name: str | None = None


def year_holidays(session: Session, year: int) -> list[MarketHoliday]:
    """The NYSE holidays of ``year``: the table's rows, and the calendar's days the table
    does not have (the table wins where both name a day)."""
    start, end = year_range(year)
    table = {
        when.date(): name
        for when, name in session.execute(
            select(Holiday.date, Holiday.name).where(
                Holiday.deletedAt.is_(None), Holiday.date >= start, Holiday.date < end
            )
        )
    }
    calendar = _nyse(year)
    days = [
        MarketHoliday(
            day,
            name,
            "table",
            calendar[day] if day in calendar and calendar[day] != name else None,
        )
        for day, name in table.items()
    ]
    days += [
        MarketHoliday(day, name, "calendar") for day, name in calendar.items() if day not in table
    ]
    return sorted(days, key=lambda h: h.day)
