"""Render estimates as records, JSON, CSV or a rich table (no printing here)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.table import Table

from rms.cost.model import OPTIONS, BreakEven, Estimate, Profile, break_evens, cheapest
from rms.cost.model import estimate_all as _estimate_all
from rms.cost.pricing import RegionPricing
from rms.cost.stack import (
    APP_TIER_LABELS,
    APP_TIERS,
    CHOSEN,
    IDLE_TARGET_USD,
    SCENARIOS,
    STACK_DATABASES,
    TARGET_YEARS,
    StackEstimate,
    StackProfile,
    YearCost,
    estimate_stack_all,
    estimate_years,
)
from rms.errors import InvalidInputError

__all__ = [
    "EstimateReport",
    "StackReport",
    "build_report",
    "build_stack_report",
    "stack_to_records",
    "stack_to_tables",
    "to_csv",
    "to_json",
    "to_records",
    "to_table",
    "years_to_table",
]

LABELS: dict[str, str] = {
    "rds-single-az": "RDS PostgreSQL, single-AZ",
    "rds-multi-az": "RDS PostgreSQL, Multi-AZ",
    "aurora-sv2-floor": "Aurora Serverless v2, 0.5 ACU floor (never pauses)",
    "aurora-sv2-scale-to-zero": "Aurora Serverless v2, scales to zero",
}


@dataclass(frozen=True)
class EstimateReport:
    """Everything ``rms cost estimate`` shows: the four estimates and how they compare."""

    profile: Profile
    region: str
    pricing_origin: str
    estimates: list[Estimate]
    cheapest: str
    break_evens: list[BreakEven]

    def break_evens_for(self, option: str) -> dict[str, BreakEven]:
        """Break-evens of ``option`` against each other option, keyed by the other option."""
        out: dict[str, BreakEven] = {}
        for be in self.break_evens:
            if be.option_a == option:
                out[be.option_b] = be
            elif be.option_b == option:
                out[be.option_a] = be
        return out


def build_report(profile: Profile, region: RegionPricing, pricing_origin: str) -> EstimateReport:
    estimates = _estimate_all(profile, region)
    return EstimateReport(
        profile=profile,
        region=region.region,
        pricing_origin=pricing_origin,
        estimates=estimates,
        cheapest=cheapest(estimates),
        break_evens=break_evens(profile, region),
    )


def _money(value: float) -> float:
    return round(value, 4)


def to_records(report: EstimateReport) -> list[dict[str, Any]]:
    """One JSON-ready object per option (the ``--format json`` output)."""
    p = report.profile
    profile = {
        "region": report.region,
        "active_hours_per_day": p.active_hours_per_day,
        "acu_when_active": p.acu_when_active,
        "storage_gb": p.storage_gb,
        "io_millions_per_month": p.io_millions_per_month,
        "sessions_per_day": p.sessions_per_day,
        "pause_delay_seconds": p.pause_delay_seconds,
        "idle_acu": p.idle_acu,
        "instance_class": p.instance_class,
        "hours_per_month": p.hours_per_month,
        "backup_gb": p.backup_gb,
        "aurora_config": p.aurora_config.value,
        "pricing": report.pricing_origin,
    }
    records: list[dict[str, Any]] = []
    for est in report.estimates:
        b = est.breakdown
        others = report.break_evens_for(est.option)
        records.append(
            {
                "option": est.option,
                "label": LABELS[est.option],
                "monthly_usd": _money(est.monthly_usd),
                "cheapest": est.option == report.cheapest,
                "breakdown": {
                    "compute": _money(b.compute),
                    "storage": _money(b.storage),
                    "io": _money(b.io),
                    "backup": _money(b.backup),
                },
                "break_even_active_hours_per_day": {
                    other: [round(h, 4) for h in be.crossings] for other, be in others.items()
                },
                "assumptions": {
                    k: (round(v, 6) if isinstance(v, float) else v)
                    for k, v in est.assumptions.items()
                },
                "profile": profile,
            }
        )
    return records


def to_json(report: EstimateReport) -> str:
    return json.dumps(to_records(report), indent=2) + "\n"


def to_csv(report: EstimateReport) -> str:
    """One row per option; break-evens as ``;``-separated hours/day, empty when none."""
    buf = io.StringIO()
    columns = ["option", "monthly_usd", "compute", "storage", "io", "backup", "cheapest"]
    columns += [f"break_even_vs_{o}" for o in OPTIONS]
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for est in report.estimates:
        b = est.breakdown
        others = report.break_evens_for(est.option)
        row: list[str] = [
            est.option,
            f"{est.monthly_usd:.2f}",
            f"{b.compute:.2f}",
            f"{b.storage:.2f}",
            f"{b.io:.2f}",
            f"{b.backup:.2f}",
            "yes" if est.option == report.cheapest else "",
        ]
        for other in OPTIONS:
            be = others.get(other)
            row.append("" if be is None else ";".join(f"{h:.2f}" for h in be.crossings))
        writer.writerow(row)
    return buf.getvalue()


def to_table(report: EstimateReport) -> tuple[Table, Table]:
    """The cost table and the break-even table, for a rich console."""
    rds = next(e for e in report.estimates if e.option == "rds-single-az").assumptions
    rds_words = f"RDS priced as {rds['instance_class']}" + (
        f" ({rds['instance_memory_gib']:g} GiB for the {rds['load_memory_gib']:g} GiB of the ACU "
        "load)"
        if rds["instance_chosen_by"] == "the load"
        else " (named)"
    )
    costs = Table(
        title=f"Monthly cost, {report.region} (USD)",
        caption=f"* cheapest. Profile: {report.profile.describe()}. {rds_words}",
        caption_justify="left",
    )
    costs.add_column("option", no_wrap=True)
    for name in ("compute", "storage", "I/O", "backup", "total"):
        costs.add_column(name, justify="right", no_wrap=True)
    for est in sorted(report.estimates, key=lambda e: e.monthly_usd):
        b = est.breakdown
        mark = est.option == report.cheapest
        costs.add_row(
            est.option,
            f"{b.compute:.2f}",
            f"{b.storage:.2f}",
            f"{b.io:.2f}",
            f"{b.backup:.2f}",
            f"{est.monthly_usd:.2f}" + (" *" if mark else "  "),
            style="bold green" if mark else None,
        )
    bes = Table(title="Break-even active hours per day")
    bes.add_column("between", no_wrap=True)
    bes.add_column("and", no_wrap=True)
    bes.add_column("break-even")
    for be in _ordered(report.break_evens):
        bes.add_row(be.option_a, be.option_b, be.describe())
    return costs, bes


def _ordered(items: Sequence[BreakEven]) -> list[BreakEven]:
    return sorted(items, key=lambda be: (not be.crossings, OPTIONS.index(be.option_a)))


# Whole stack (``rms cost estimate --stack``) ----------------------------------------------


@dataclass(frozen=True)
class StackReport:
    """Every app tier with every database, idle and active, and the line items of one."""

    profile: Profile
    region: str
    pricing_origin: str
    estimates: list[StackEstimate]
    detail_tier: str
    #: The chosen design year by year from the deployment, idle and active.
    idle_years: list[YearCost]
    active_years: list[YearCost]
    #: Customer managed keys priced: 0 with the AWS-managed keys infra/ deploys by default, 1
    #: with ``--customer-managed-key`` (infra/'s ``customer_managed_key = true``).
    kms_keys: int = 0

    def get(self, app_tier: str, database: str, scenario: str) -> StackEstimate:
        return next(
            e
            for e in self.estimates
            if (e.app_tier, e.database, e.scenario) == (app_tier, database, scenario)
        )

    @property
    def chosen_idle(self) -> StackEstimate:
        return self.get(*CHOSEN, "idle")

    @property
    def meets_target(self) -> bool:
        """Every month of the first three years idle at most the target (to the cent)."""
        return all(
            round(y.dearest_month_usd, 2) <= IDLE_TARGET_USD for y in self.idle_years[:TARGET_YEARS]
        )

    def idle_verdict(self) -> str:
        """One sentence: the chosen design's idle cost, each year, against the 3 $ target."""
        idle = self.chosen_idle
        per_year = ", ".join(
            f"year {y.year} ${y.dearest_month_usd:.2f}" for y in self.idle_years[:TARGET_YEARS]
        )
        verdict = (
            f"at most the ${IDLE_TARGET_USD:.0f} target in each of the first {TARGET_YEARS} years"
            if self.meets_target
            else f"OVER the ${IDLE_TARGET_USD:.0f} target in the first {TARGET_YEARS} years"
        )
        return (
            f"Whole stack idle ({idle.app_tier} + {idle.database}, "
            f"{_fmt_gb(self.profile.storage_gb)} GB): {per_year} a month, {verdict}"
        )


def _plain(value: float) -> str:
    """A price in plain decimals (0.0000133334, not 1.33334e-05)."""
    return f"{value:.10f}".rstrip("0").rstrip(".") or "0"


def _fmt_gb(value: float) -> str:
    return f"{round(value, 2):g}"


def build_stack_report(
    profile: Profile,
    region: RegionPricing,
    pricing_origin: str,
    stack_profile: StackProfile | None = None,
    detail_tier: str = CHOSEN[0],
    years: int = TARGET_YEARS,
) -> StackReport:
    if detail_tier not in APP_TIERS:
        raise InvalidInputError(
            f"--app-tier: unknown app tier {detail_tier!r}; expected one of {', '.join(APP_TIERS)}",
            field="--app-tier",
        )
    return StackReport(
        profile=profile,
        region=region.region,
        pricing_origin=pricing_origin,
        estimates=estimate_stack_all(profile, region, stack_profile),
        detail_tier=detail_tier,
        idle_years=estimate_years(*CHOSEN, "idle", profile, region, stack_profile, years),
        active_years=estimate_years(*CHOSEN, "active", profile, region, stack_profile, years),
        kms_keys=(stack_profile or StackProfile()).kms_keys,
    )


def stack_to_records(report: StackReport) -> dict[str, Any]:
    """The ``--stack --format json`` part: totals, line items and the idle verdict."""
    combos = []
    for tier in APP_TIERS:
        for db in STACK_DATABASES:
            entry: dict[str, Any] = {
                "app_tier": tier,
                "app_tier_label": APP_TIER_LABELS[tier],
                "database": db,
                "chosen": (tier, db) == CHOSEN,
            }
            for scenario in SCENARIOS:
                est = report.get(tier, db, scenario)
                entry[f"{scenario}_monthly_usd"] = _money(est.monthly_usd)
                entry[f"{scenario}_items"] = [
                    {
                        "category": i.category,
                        "name": i.name,
                        "quantity": round(i.quantity, 6),
                        "unit": i.unit,
                        "unit_usd": i.unit_usd,
                        "usd": _money(i.usd),
                        "price_key": i.price_key,
                        "note": i.note,
                    }
                    for i in est.items
                ]
            combos.append(entry)
    idle = report.chosen_idle
    return {
        "region": report.region,
        "pricing": report.pricing_origin,
        "storage_gb": report.profile.storage_gb,
        "combinations": combos,
        "chosen": {"app_tier": CHOSEN[0], "database": CHOSEN[1]},
        "chosen_idle_monthly_usd": _money(idle.monthly_usd),
        "idle_target_usd": IDLE_TARGET_USD,
        "idle_target_years": TARGET_YEARS,
        "chosen_idle_meets_target": report.meets_target,
        "customer_managed_keys": report.kms_keys,
        "chosen_years": [
            {
                "year": i.year,
                "idle_total_usd": _money(i.total_usd),
                "idle_monthly_usd": _money(i.monthly_usd),
                "idle_dearest_month_usd": _money(i.dearest_month_usd),
                "active_total_usd": _money(a.total_usd),
                "active_monthly_usd": _money(a.monthly_usd),
            }
            for i, a in zip(report.idle_years, report.active_years, strict=True)
        ],
    }


def years_to_table(report: StackReport) -> Table:
    """The chosen design year by year from the deployment (``--years``)."""
    t = Table(
        title=f"Chosen design year by year ({CHOSEN[0]} + {CHOSEN[1]}), USD",
        caption=(
            "a year is 12 months of 730 h from the deployment; "
            + (
                "keys: AWS-managed (infra/'s default), the same every year"
                if report.kms_keys == 0
                else f"keys: {report.kms_keys} customer managed (--customer-managed-key), "
                "whose first two yearly rotations make later years dearer"
            )
        ),
        caption_justify="left",
    )
    for name in ("year", "idle a month", "idle a year", "active a month", "active a year"):
        t.add_column(name, justify="right", no_wrap=True)
    for i, a in zip(report.idle_years, report.active_years, strict=True):
        over = round(i.dearest_month_usd, 2) > IDLE_TARGET_USD
        t.add_row(
            str(i.year),
            f"{i.monthly_usd:.2f}" + (" !" if over else ""),
            f"{i.total_usd:.2f}",
            f"{a.monthly_usd:.2f}",
            f"{a.total_usd:.2f}",
            style="bold red" if over else None,
        )
    return t


def stack_to_tables(report: StackReport) -> tuple[Table, Table]:
    """The totals table (every combination) and the line items of ``detail_tier``."""
    totals = Table(
        title=f"Whole stack, monthly cost, {report.region} (USD)",
        caption=(
            "idle: no request all month; active: the profile above. "
            f"* the design infra/ deploys. Prices: {report.pricing_origin}"
        ),
        caption_justify="left",
    )
    totals.add_column("app tier", no_wrap=True)
    totals.add_column("database", no_wrap=True)
    totals.add_column("idle", justify="right", no_wrap=True)
    totals.add_column("active", justify="right", no_wrap=True)
    for tier in APP_TIERS:
        for db in STACK_DATABASES:
            chosen = (tier, db) == CHOSEN
            totals.add_row(
                tier + (" *" if chosen else ""),
                db,
                f"{report.get(tier, db, 'idle').monthly_usd:.2f}",
                f"{report.get(tier, db, 'active').monthly_usd:.2f}",
                style="bold green" if chosen else None,
            )
    tier = report.detail_tier
    db = CHOSEN[1]
    idle, active = report.get(tier, db, "idle"), report.get(tier, db, "active")
    items = Table(title=f"Line items: {tier} + {db} (USD per month)")
    for name, justify in (
        ("item", "left"),
        ("unit price", "right"),
        ("price key", "left"),
        ("idle", "right"),
        ("active", "right"),
        ("note (active)", "left"),
    ):
        items.add_column(name, justify=justify)  # type: ignore[arg-type]
    for i_idle, i_active in zip(idle.items, active.items, strict=True):
        items.add_row(
            i_active.name,
            f"{_plain(i_active.unit_usd)}/{i_active.unit}",
            i_active.price_key,
            f"{i_idle.usd:.2f}",
            f"{i_active.usd:.2f}",
            i_active.note,
        )
    items.add_row(
        "total", "", "", f"{idle.monthly_usd:.2f}", f"{active.monthly_usd:.2f}", "", style="bold"
    )
    return totals, items
