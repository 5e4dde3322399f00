"""Portfolio rules: what a period is, and the shapes of the summaries.

* deposits are ``divDeposits`` rows with no ``universeId``;
* dividends are ``divDeposits`` rows with a ``universeId``;
* capital gains of a period are ``(sell - buy) * quantity`` over trades sold in it;
* the open cost basis is ``buy * quantity`` over trades with no ``sell_date`` bought before
  the end of the period, grouped by risk group.

Soft-deleted rows never count. Periods are calendar months in UTC. Totals are rounded to the
cent (the stored values themselves stay exact doubles).
"""

from __future__ import annotations

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
