"""Portfolio rules that need no database: periods and their validation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rms.domain.portfolio import (
    MonthFigures,
    MonthSummary,
    month_range,
    parse_month,
    year_range,
    year_total,
)
from rms.errors import InvalidInputError


@pytest.mark.parametrize(
    ("text", "expected"), [("2024-01", (2024, 1)), ("1900-12", (1900, 12)), ("2199-06", (2199, 6))]
)
def test_parse_month(text: str, expected: tuple[int, int]) -> None:
    assert parse_month(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2024-13",
        "2024-00",
        "24-01",
        "2024-1",
        "2024/01",
        "",
        "1899-12",
        "2200-01",
        "abcd-ef",
        "2024-01-01",
    ],
)
def test_parse_month_rejects_with_the_field_named(text: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_month(text, field_name="month")
    assert info.value.field == "month" and "month" in str(info.value)


def test_month_range_covers_the_calendar_month_in_utc() -> None:
    assert month_range(2024, 2) == (
        datetime(2024, 2, 1, tzinfo=UTC),
        datetime(2024, 3, 1, tzinfo=UTC),
    )
    assert month_range(2024, 12) == (
        datetime(2024, 12, 1, tzinfo=UTC),
        datetime(2025, 1, 1, tzinfo=UTC),
    )


def test_year_range_and_its_bounds() -> None:
    assert year_range(2024) == (datetime(2024, 1, 1, tzinfo=UTC), datetime(2025, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidInputError, match="year"):
        year_range(1800)


def test_open_cost_basis_total_is_rounded_to_the_cent() -> None:
    summary = MonthSummary("2024-01", None, 0, 0, 0, {"Income": 0.1, "Equities": 0.2})
    assert summary.open_cost_basis_total == 0.3


def test_year_total_adds_up_the_months_as_shown() -> None:
    months = [
        MonthFigures("2025-01", deposits=0.1, dividends=1.005, capital_gains=-2.0),
        MonthFigures("2025-02", deposits=0.2, dividends=2.0, capital_gains=0.5),
    ]
    assert year_total(months) == MonthFigures(
        "2025", deposits=0.3, dividends=3.0, capital_gains=-1.5
    )
    assert year_total([]) == MonthFigures("")
