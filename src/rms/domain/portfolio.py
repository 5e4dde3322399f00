"""Portfolio rules: what a period is, what its figures mean, and the shapes of the summaries.

The figures of a month (``/api/summary``, ``/api/summary/graph``, the dashboard), all computed
by :mod:`rms.repo.summary`:

* **deposits**: the sum of the ``divDeposits`` rows with no ``universeId`` dated in the
  month (a withdrawal is a negative deposit);
* **dividends**: the sum of the ``divDeposits`` rows with a ``universeId`` dated in the month;
* **capital gains**: ``(sell - buy) * quantity`` over the lots (trades) sold in the month;
* **open cost basis**, per risk group of the lot's symbol: ``buy * quantity`` over the lots
  held at the end of the month, i.e. bought before the month's end and not sold by then
  (no ``sell_date``, or one at or after the month's end);
* **the year's total**: the sum of the twelve months' (rounded) deposits, dividends and
  capital gains, so the monthly table adds up to it.

So a month's figures depend only on rows dated up to its end: a later buy, sale, dividend or
deposit does not change them. Editing or deleting a row of the month (a correction of the
record) does, and so does moving a symbol to another risk group (the basis is grouped by the
symbol's group now).

Soft-deleted rows never count. Periods are calendar months in UTC; the end of a month is the
first instant of the next one. Totals are rounded to the cent (the stored values themselves
stay exact doubles).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rms.errors import InvalidInputError

__all__ = [
    "STANDARD_RISK_GROUPS",
    "MonthFigures",
    "MonthSummary",
    "month_range",
    "parse_month",
    "year_range",
    "year_total",
]

STANDARD_RISK_GROUPS = ("Equities", "Income", "Tax Free Income")

MIN_YEAR, MAX_YEAR = 1900, 2199


def _check_year(year: int, field_name: str) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidInputError(
            f"{field_name}: year {year} is outside {MIN_YEAR}..{MAX_YEAR}", field=field_name
        )


def parse_month(text: str, field_name: str = "month") -> tuple[int, int]:
    """``YYYY-MM`` -> (year, month), or a clear error naming the field."""
    try:
        year_s, month_s = text.split("-")
        year, month = int(year_s), int(month_s)
        if len(year_s) != 4 or len(month_s) != 2 or not 1 <= month <= 12:
            raise ValueError(text)
    except ValueError:
        raise InvalidInputError(
            f"{field_name}: expected YYYY-MM (e.g. 2024-03), got {text!r}", field=field_name
        ) from None
    _check_year(year, field_name)
    return year, month


def month_range(year: int, month: int) -> tuple[datetime, datetime]:
    """[start, end) of a calendar month in UTC."""
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def year_range(year: int, field_name: str = "year") -> tuple[datetime, datetime]:
    _check_year(year, field_name)
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class MonthFigures:
    month: str
    deposits: float = 0.0
    dividends: float = 0.0
    capital_gains: float = 0.0


@dataclass(frozen=True)
class MonthSummary:
    month: str
    account_id: str | None
    deposits: float
    dividends: float
    capital_gains: float
    open_cost_basis: dict[str, float] = field(default_factory=dict)

    @property
    def open_cost_basis_total(self) -> float:
        return round(sum(self.open_cost_basis.values()), 2)


def year_total(months: Sequence[MonthFigures]) -> MonthFigures:
    """The sum of the months' figures (as rounded), labelled with their year (``YYYY``)."""
    year = months[0].month[:4] if months else ""
    return MonthFigures(
        month=year,
        deposits=round(sum(m.deposits for m in months), 2),
        dividends=round(sum(m.dividends for m in months), 2),
        capital_gains=round(sum(m.capital_gains for m in months), 2),
    )
