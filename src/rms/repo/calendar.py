"""The market calendar: is a day one the NYSE traded on?

The owner's holidays table comes first (it may hold closures the package does not know,
such as a day of mourning); the ``holidays`` package's NYSE calendar covers every other
year. Weekends are closed.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from rms.repo.resources import day_start
from rms.schema.tables import Holiday

__all__ = ["market_closed"]


@lru_cache(maxsize=64)
def _nyse(year: int) -> dict[date, str]:
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
