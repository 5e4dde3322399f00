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

__all__ = ["Chart", "tick_label", "year_chart"]

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Frame:
    """The SVG's user-unit geometry; the stylesheet sets the labels' size to ``font``."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    font: int


#: Drawn at 720 units wide on a desktop. A phone (the stylesheet switches below 600 px) gets
#: its own narrower frame, so its labels stay about 12 px high at 375 px instead of 5.
WIDE = Frame(720, 300, 64, 12, 16, 36, 11)
NARROW = Frame(360, 260, 44, 6, 12, 30, 12)


def _decimals(step: float) -> int:
    return max(0, -math.floor(round(math.log10(step), 9)))


def tick_label(value: float, step: float, *, compact: bool = False) -> str:
    """A gridline's label with the decimals its step needs: steps of 0.2 read ``0.0 0.2 0.4``,
    of 0.5 ``0.0 0.5 1.0 1.5``, of 1,000 ``1,000 2,000``. ``compact`` (the narrow chart)
    writes thousands and millions as ``k`` and ``M``: ``2.5k``, ``10k``, ``1.2M``."""
    if value == 0:
        return "0"
    if compact:
        # Only where the plain label would not fit the narrow margin (6 characters or more).
        for factor, suffix, from_step in ((1e6, "M", 2e5), (1e3, "k", 2e3)):
            if step >= from_step:
                scaled = step / factor
                return f"{value / factor:.{_decimals(scaled)}f}{suffix}"
    return f"{value:,.{_decimals(step)}f}"


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
    label: str


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
    label_y: float
    font: int


def _step(span: float) -> float:
    """A round gridline step (1, 2 or 5 times a power of ten) giving about 5 lines."""
    raw = span / 5
    power: float = 10.0 ** math.floor(math.log10(raw))
    return next(float(m * power) for m in (1, 2, 5, 10) if m * power >= raw)


def year_chart(months: Sequence[MonthFigures], *, narrow: bool = False) -> Chart:
    frame = NARROW if narrow else WIDE
    values = [v for m in months for v in (m.dividends, m.capital_gains)]
    high = max([0.0, *values])
    low = min([0.0, *values])
    if high == low:
        high = 1.0
    step = _step(high - low)
    top = math.ceil(high / step) * step
    bottom = math.floor(low / step) * step
    plot_h = frame.height - frame.top - frame.bottom

    def y_of(value: float) -> float:
        return frame.top + (top - value) / (top - bottom) * plot_h

    slot = (frame.width - frame.left - frame.right) / 12
    bar_w = slot * 0.36
    zero = y_of(0.0)
    bars: list[Bar] = []
    labels: list[tuple[float, str]] = []
    for index, month in enumerate(months[:12]):
        x0 = frame.left + index * slot + slot * 0.12
        labels.append((round(frame.left + index * slot + slot / 2, 1), MONTHS[index]))
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
    ticks = []
    for i in range(count + 1):
        value = round(bottom + i * step, 9)  # 3 x 0.1 is 0.30000000000000004
        ticks.append(Tick(round(y_of(value), 1), value, tick_label(value, step, compact=narrow)))
    return Chart(
        frame.width,
        frame.height,
        bars,
        ticks,
        round(zero, 1),
        labels,
        frame.left,
        frame.width - frame.right,
        frame.height - frame.bottom + frame.font + 6,
        frame.font,
    )
