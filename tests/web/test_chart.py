"""The year's chart geometry and its axis labels (no database)."""

from __future__ import annotations

import pytest

from rms.domain.portfolio import MonthFigures
from rms.web.chart import NARROW, WIDE, tick_label, year_chart


def year(*dividends: float, gains: float = 0.0) -> list[MonthFigures]:
    values = [*dividends, *[0.0] * (12 - len(dividends))]
    return [
        MonthFigures(f"2025-{n:02d}", dividends=v, capital_gains=gains if n == 1 else 0.0)
        for n, v in enumerate(values, start=1)
    ]


@pytest.mark.parametrize(
    ("months", "wide", "narrow"),
    [
        (
            year(),
            ["0", "0.2", "0.4", "0.6", "0.8", "1.0"],
            ["0", "0.2", "0.4", "0.6", "0.8", "1.0"],
        ),
        (year(1.3), ["0", "0.5", "1.0", "1.5"], ["0", "0.5", "1.0", "1.5"]),
        (year(0.03), ["0", "0.01", "0.02", "0.03"], ["0", "0.01", "0.02", "0.03"]),
        (
            year(1234.5, gains=-300.0),
            ["-500", "0", "500", "1,000", "1,500"],
            ["-500", "0", "500", "1,000", "1,500"],
        ),
        (
            year(48_000),
            ["0", "10,000", "20,000", "30,000", "40,000", "50,000"],
            ["0", "10k", "20k", "30k", "40k", "50k"],
        ),
        (year(1.2e6), ["0", "500,000", "1,000,000", "1,500,000"], ["0", "0.5M", "1.0M", "1.5M"]),
    ],
)
def test_axis_labels_keep_the_decimals_their_step_needs(
    months: list[MonthFigures], wide: list[str], narrow: list[str]
) -> None:
    assert [t.label for t in year_chart(months).ticks] == wide
    assert [t.label for t in year_chart(months, narrow=True).ticks] == narrow


def test_tick_label_of_a_negative_step_value() -> None:
    assert tick_label(-0.4, 0.2) == "-0.4"
    assert tick_label(-4000.0, 2000.0, compact=True) == "-4k"


@pytest.mark.parametrize("narrow", [False, True])
def test_the_chart_fits_its_frame(narrow: bool) -> None:
    frame = NARROW if narrow else WIDE
    chart = year_chart(year(5.0, 10.0, gains=-3.0), narrow=narrow)
    assert (chart.width, chart.height) == (frame.width, frame.height)
    assert len(chart.bars) == 24 and len(chart.labels) == 12
    for bar in chart.bars:
        assert frame.left <= bar.x and bar.x + bar.width <= frame.width - frame.right
        assert frame.top - 0.1 <= bar.y and bar.y + bar.height <= frame.height - frame.bottom + 0.1
    assert chart.label_y <= frame.height
