"""Monthly cost of each option against active hours per day, as a PNG or SVG file.

matplotlib is imported inside :func:`plot_costs`, and the figure is drawn on an Agg canvas
made for it (``matplotlib.figure.Figure`` + ``FigureCanvasAgg``) rather than through
``pyplot``: that renders headless without touching the process-wide backend, so importing
``rms.cost`` costs nothing and a caller's own matplotlib set-up is left alone.
"""

from __future__ import annotations

from pathlib import Path

from rms.cost.model import OPTIONS, Profile, break_evens, monthly_cost_curve, rds_instance_class
from rms.cost.pricing import RegionPricing
from rms.errors import InvalidInputError

__all__ = ["COLORS", "SUPPORTED_SUFFIXES", "plot_costs"]

SUPPORTED_SUFFIXES = (".png", ".svg")

# Colour-blind-safe (Okabe-Ito) and distinct in grey scale by line style as well.
COLORS: dict[str, str] = {
    "rds-single-az": "#0072B2",
    "rds-multi-az": "#56B4E9",
    "aurora-sv2-floor": "#D55E00",
    "aurora-sv2-scale-to-zero": "#009E73",
}
_STYLES: dict[str, str] = {
    "rds-single-az": "-",
    "rds-multi-az": "--",
    "aurora-sv2-floor": "-.",
    "aurora-sv2-scale-to-zero": "-",
}
_LABELS: dict[str, str] = {
    "rds-single-az": "RDS single-AZ",
    "rds-multi-az": "RDS Multi-AZ",
    "aurora-sv2-floor": "Aurora SV2, 0.5 ACU floor",
    "aurora-sv2-scale-to-zero": "Aurora SV2, scale to zero",
}


def plot_costs(
    profile: Profile,
    region: RegionPricing,
    out: Path,
    *,
    mark_profile: bool = False,
    dpi: int = 150,
) -> Path:
    """Draw the four cost curves over 0-24 active h/day with break-evens marked; save to ``out``.

    The curves vary only the active hours per day; everything else comes from ``profile``. With
    ``mark_profile`` the profile's own active hours get a shaded marker line.
    """
    suffix = out.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InvalidInputError(
            f"--out: file name must end in .png or .svg, got {out.name!r}", field="--out"
        )
    if not out.parent.exists():
        raise InvalidInputError(
            f"--out: directory {str(out.parent)!r} does not exist", field="--out"
        )

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    hours = [i / 20.0 for i in range(24 * 20 + 1)]
    curves = {o: monthly_cost_curve(o, profile, region) for o in OPTIONS}
    values = {o: [curves[o](h) for h in hours] for o in OPTIONS}

    fig = Figure(figsize=(10, 6.6), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for option in OPTIONS:
        ax.plot(
            hours,
            values[option],
            _STYLES[option],
            color=COLORS[option],
            linewidth=2.4,
            label=f"{_LABELS[option]} ({option})",
        )

    top = max(max(v) for v in values.values())
    points: list[tuple[float, float, str, str]] = []
    for be in break_evens(profile, region):
        for h in be.crossings:
            points.append((h, curves[be.option_a](h), be.option_a, be.option_b))
    points.sort()
    notes: list[str] = []
    for number, (h, cost, a, b) in enumerate(points, start=1):
        ax.plot(
            [h],
            [cost],
            "o",
            markersize=9,
            markerfacecolor="white",
            markeredgecolor="black",
            markeredgewidth=1.6,
            zorder=5,
        )
        ax.axvline(h, color="grey", linewidth=0.8, linestyle=":", zorder=1)
        # A crossing is a steeper curve passing a flatter one from below, so above-left and
        # below-right of it are clear; use below-right near the left edge, where a label
        # would run off the axes.
        left = h >= 5.0
        ax.annotate(
            f"({number}) {h:.1f} h/day\n${cost:.2f}/month",
            xy=(h, cost),
            xytext=(-10, 14) if left else (10, -14),
            textcoords="offset points",
            fontsize=9,
            ha="right" if left else "left",
            va="bottom" if left else "top",
            bbox={"boxstyle": "round,pad=0.25", "facecolor": "white", "edgecolor": "0.6"},
            zorder=6,
        )
        notes.append(f"({number}) {h:.2f} h/day: {_LABELS[a]} = {_LABELS[b]}")
    lines = ["Break-even points: " + ("; ".join(notes) if notes else "none in 0-24 h/day.")]
    if notes:
        lines[0] += ". Other pairs do not cross in 0-24 h/day."

    if mark_profile:
        h = profile.active_hours_per_day
        at_h = {o: curves[o](h) for o in OPTIONS}
        best = min(OPTIONS, key=lambda o: round(at_h[o], 2))
        ax.axvline(h, color="black", linewidth=7, alpha=0.13, zorder=0)
        for option in OPTIONS:
            ax.plot([h], [at_h[option]], "o", color=COLORS[option], markersize=5, zorder=4)
        lines.insert(
            0,
            f"Your profile (grey band): {h:g} h/day; cheapest there is {_LABELS[best]}, "
            f"${at_h[best]:.2f}/month.",
        )
    # Under the axes (part of their layout box), so it can never cover a curve.
    ax.text(
        0.0,
        -0.12,
        "\n".join(lines),
        transform=ax.transAxes,
        fontsize=9,
        ha="left",
        va="top",
        wrap=True,
        linespacing=1.5,
    )

    ax.set_xlim(0, 24)
    ax.set_ylim(0, top * 1.12 if top > 0 else 1.0)
    ax.xaxis.set_major_locator(MultipleLocator(2))
    ax.xaxis.set_minor_locator(MultipleLocator(1))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"${v:,.0f}"))
    ax.grid(True, which="major", alpha=0.35)
    ax.set_xlabel("Active hours per day (h)", fontsize=11)
    ax.set_ylabel("Monthly cost (USD per month)", fontsize=11)
    p = profile
    fig.suptitle(
        f"Monthly database cost vs active hours per day ({region.region})\n"
        f"{p.acu_when_active:g} ACU when active, {p.storage_gb:g} GB, "
        f"{p.io_millions_per_month:g} M I/O/month, {p.sessions_per_day:g} session(s)/day, "
        f"{p.pause_delay_seconds:g} s pause delay, RDS {rds_instance_class(p, region)}",
        fontsize=12,
    )
    # Above the axes, under the title: inside them it would hide a curve sooner or later.
    ax.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 1.01),
        ncols=2,
        fontsize=9.5,
        frameon=False,
    )
    fig.savefig(out, format=suffix.lstrip("."))
    return out
