"""The year's chart as SVG geometry, drawn by our template (``_chart.html``).

Hand-built rather than matplotlib's SVG: matplotlib writes ``style`` attributes, which the
pages' Content-Security-Policy (``style-src 'self'``, no ``'unsafe-inline'``) would strip,
and its output has no title, description or roles for a screen reader. The geometry is a
few lines of arithmetic: two bars per month (dividends, capital gains), a zero line, a
"nice" scale with gridlines; the template adds ``<title>``/``<desc>`` and the same figures
as a table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rms.domain.portfolio import MonthFigures

__all__ = ["Chart", "year_chart"]

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 16, 36
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    series: str
    value: float
    label: str


@dataclass(frozen=True)
class Tick:
    y: float
    value: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    ticks: list[Tick]
    zero_y: float
    labels: list[tuple[float, str]]
    left: int
    right: int


def _step(span: float) -> float:
    """A round gridline step (1, 2 or 5 times a power of ten) giving about 5 lines."""
    raw = span / 5
    power: float = 10.0 ** math.floor(math.log10(raw))
    return next(float(m * power) for m in (1, 2, 5, 10) if m * power >= raw)


def year_chart(months: Sequence[MonthFigures]) -> Chart:
    values = [v for m in months for v in (m.dividends, m.capital_gains)]
    high = max([0.0, *values])
    low = min([0.0, *values])
    if high == low:
        high = 1.0
    step = _step(high - low)
    top = math.ceil(high / step) * step
    bottom = math.floor(low / step) * step
    plot_h = HEIGHT - TOP - BOTTOM

    def y_of(value: float) -> float:
        return TOP + (top - value) / (top - bottom) * plot_h

    slot = (WIDTH - LEFT - RIGHT) / 12
    bar_w = slot * 0.36
    zero = y_of(0.0)
    bars: list[Bar] = []
    labels: list[tuple[float, str]] = []
    for index, month in enumerate(months[:12]):
        x0 = LEFT + index * slot + slot * 0.12
        labels.append((LEFT + index * slot + slot / 2, MONTHS[index]))
        for offset, series, value in (
            (0.0, "dividends", month.dividends),
            (bar_w, "gains", month.capital_gains),
        ):
            y = y_of(max(value, 0.0))
            height = abs(y_of(value) - zero)
            name = "dividends" if series == "dividends" else "capital gains"
            bars.append(
                Bar(
                    round(x0 + offset, 1),
                    round(y, 1),
                    round(bar_w, 1),
                    round(height, 1),
                    series,
                    value,
                    f"{MONTHS[index]}: {name} {value:,.2f}",
                )
            )
    count = round((top - bottom) / step)
    ticks = [Tick(round(y_of(bottom + i * step), 1), bottom + i * step) for i in range(count + 1)]
    return Chart(WIDTH, HEIGHT, bars, ticks, round(zero, 1), labels, LEFT, WIDTH - RIGHT)
