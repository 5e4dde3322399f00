"""``rms cost``: thin Typer commands over :mod:`rms.cost.model`, ``plot`` and ``measured``.

Errors are :class:`~rms.errors.RmsError` subclasses naming the option; :func:`rms.cli.main`
prints them (one line, exit status 2).
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from rms.clikit import command_group, hooks_of, stdout_console
from rms.cost.model import AUTO_INSTANCE_CLASS, AuroraConfig, Profile
from rms.cost.pricing import PricingTable, RegionPricing, load_builtin_pricing, load_pricing
from rms.cost.report import (
    build_report,
    build_stack_report,
    stack_to_records,
    stack_to_tables,
    to_csv,
    to_json,
    to_records,
    to_table,
    years_to_table,
)
from rms.cost.stack import (
    APP_TIERS,
    CUSTOMER_MANAGED_KMS_KEYS,
    DEPLOYED_KMS_KEYS,
    DEPLOYED_LAMBDA_ARCHITECTURE,
    DEPLOYED_LAMBDA_RUNTIME,
    DEPLOYED_SNAPSTART,
    LAMBDA_INIT_MEASURED_S,
    LAMBDA_RUNTIMES,
    TARGET_YEARS,
    StackProfile,
)
from rms.errors import InvalidInputError

if TYPE_CHECKING:
    from rms.cost.measured import Measurement
    from rms.cost.report import EstimateReport

__all__ = ["app"]

app = command_group("What each database option costs: estimated from a usage profile, or measured.")


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"


class MeasuredFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


# Shared options ---------------------------------------------------------------------------

ActiveHours = Annotated[
    float,
    typer.Option(
        "--active-hours-per-day", help="Hours a day the app is in use (0-24).", show_default=False
    ),
]
AcuWhenActive = Annotated[
    float,
    typer.Option("--acu-when-active", help="Average Aurora capacity while in use (ACU, >= 0.5)."),
]
StorageGb = Annotated[
    float, typer.Option("--storage-gb", help="Database size in GB.", show_default=False)
]
IoMillions = Annotated[
    float,
    typer.Option("--io-millions-per-month", help="Aurora I/O requests per month, in millions."),
]
Region = Annotated[str, typer.Option("--region", help="AWS region of the prices.")]
Sessions = Annotated[
    int,
    typer.Option(
        "--sessions-per-day", help="Active periods a day (each followed by the pause delay)."
    ),
]
PauseDelay = Annotated[
    float,
    typer.Option("--pause-delay-seconds", help="Aurora seconds_until_auto_pause (300-86400)."),
]
IdleAcu = Annotated[
    float, typer.Option("--idle-acu", help="Aurora capacity while awake but idle (ACU).")
]
InstanceClass = Annotated[
    str,
    typer.Option(
        "--instance-class",
        help="RDS instance class for the RDS options; auto: the cheapest class with the memory "
        "of the Aurora load (--acu-when-active x 2 GiB), so both sides carry the same load.",
    ),
]
HoursPerMonth = Annotated[float, typer.Option("--hours-per-month", help="Hours in a month.")]
BackupGb = Annotated[
    float,
    typer.Option("--backup-gb", help="Backup storage beyond the free share, GB-month."),
]
AuroraConfigOpt = Annotated[
    AuroraConfig,
    typer.Option("--aurora-config", help="Aurora storage configuration.", case_sensitive=False),
]
PricingFile = Annotated[
    Path | None,
    typer.Option(
        "--pricing",
        help="Your own pricing table (JSON, same format as the built-in one).",
        dir_okay=False,
    ),
]


def _pricing(path: Path | None) -> PricingTable:
    return load_builtin_pricing() if path is None else load_pricing(path)


def _check_class(prices: RegionPricing, instance_class: str) -> None:
    if instance_class != AUTO_INSTANCE_CLASS:
        prices.instance(instance_class)


def _region(path: Path | None, region: str) -> tuple[PricingTable, RegionPricing]:
    table = _pricing(path)
    return table, table.region(region)


# Commands ---------------------------------------------------------------------------------


@app.command()
def estimate(
    active_hours_per_day: ActiveHours,
    acu_when_active: AcuWhenActive,
    storage_gb: StorageGb,
    io_millions_per_month: IoMillions = 0.0,
    region: Region = "us-east-1",
    sessions_per_day: Sessions = 1,
    pause_delay_seconds: PauseDelay = 300.0,
    idle_acu: IdleAcu = 0.5,
    instance_class: InstanceClass = AUTO_INSTANCE_CLASS,
    hours_per_month: HoursPerMonth = 730.0,
    backup_gb: BackupGb = 0.0,
    aurora_config: AuroraConfigOpt = AuroraConfig.STANDARD,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="Output format.", case_sensitive=False)
    ] = OutputFormat.TABLE,
    pricing: PricingFile = None,
    stack: Annotated[
        bool,
        typer.Option(
            "--stack",
            help="Also price the whole stack (app tier, sign-in, keys, secrets, alarms, logs, "
            "network) for each app tier with Aurora and RDS, idle and active.",
        ),
    ] = False,
    app_tier: Annotated[
        str,
        typer.Option(
            "--app-tier",
            help=f"With --stack: the app tier whose line items are shown ({', '.join(APP_TIERS)}).",
        ),
    ] = APP_TIERS[0],
    requests_per_active_hour: Annotated[
        float,
        typer.Option(
            "--requests-per-active-hour", help="With --stack: requests in an active hour."
        ),
    ] = 300.0,
    years: Annotated[
        int,
        typer.Option(
            "--years",
            help="With --stack: the chosen design year by year for this many years (1-10).",
        ),
    ] = TARGET_YEARS,
    customer_managed_key: Annotated[
        bool,
        typer.Option(
            "--customer-managed-key/--aws-managed-keys",
            help="With --stack: price the stack with infra/'s customer_managed_key = true (one "
            "customer-managed KMS key, priced with its yearly rotations) instead of the "
            "AWS-managed keys infra/ deploys by default. --aws-managed-keys: deprecated, the "
            "default.",
        ),
    ] = False,
    lambda_init_seconds: Annotated[
        float,
        typer.Option(
            "--lambda-init-seconds",
            help="With --stack: billed INIT time of a cold start (measured: "
            f"{LAMBDA_INIT_MEASURED_S:g} s).",
        ),
    ] = LAMBDA_INIT_MEASURED_S,
    lambda_architecture: Annotated[
        str,
        typer.Option(
            "--lambda-architecture",
            help="With --stack: the function's architecture, arm64 (what infra/ deploys by "
            "default, 20 % less per GB-second) or x86_64.",
        ),
    ] = DEPLOYED_LAMBDA_ARCHITECTURE,
    lambda_runtime: Annotated[
        str,
        typer.Option(
            "--lambda-runtime",
            help=f"With --stack: the function's runtime ({', '.join(LAMBDA_RUNTIMES)}; "
            f"infra/ deploys {DEPLOYED_LAMBDA_RUNTIME} by default).",
        ),
    ] = DEPLOYED_LAMBDA_RUNTIME,
    snapstart: Annotated[
        bool,
        typer.Option(
            "--snapstart",
            help="With --stack: price Lambda SnapStart (infra/'s snapstart = true, off by "
            "default): the snapshot's cache all month and a restore per cold start.",
        ),
    ] = DEPLOYED_SNAPSTART,
) -> None:
    """Monthly cost of RDS single-AZ, RDS Multi-AZ and Aurora Serverless v2 (floor or zero).

    With --stack, also the whole stack's idle and active cost for each app tier.
    """

    table, prices = _region(pricing, region)
    if stack and output_format is OutputFormat.CSV:
        raise InvalidInputError(
            "--stack: not available with --format csv (use table or json)", field="--stack"
        )
    profile = Profile(
        active_hours_per_day=active_hours_per_day,
        acu_when_active=acu_when_active,
        storage_gb=storage_gb,
        io_millions_per_month=io_millions_per_month,
        sessions_per_day=_sessions(sessions_per_day),
        pause_delay_seconds=pause_delay_seconds,
        idle_acu=idle_acu,
        instance_class=instance_class,
        hours_per_month=hours_per_month,
        backup_gb=backup_gb,
        aurora_config=aurora_config,
    )
    _check_class(prices, instance_class)  # fail early, naming the option
    report = build_report(profile, prices, table.origin)
    stack_report = None
    if stack:
        stack_report = build_stack_report(
            profile,
            prices,
            table.origin,
            StackProfile(
                requests_per_active_hour=requests_per_active_hour,
                kms_keys=CUSTOMER_MANAGED_KMS_KEYS if customer_managed_key else DEPLOYED_KMS_KEYS,
                lambda_init_seconds=lambda_init_seconds,
                lambda_architecture=lambda_architecture,
                lambda_runtime=lambda_runtime,
                snapstart=snapstart,
            ),
            detail_tier=app_tier,
            years=years,
        )
    if output_format is OutputFormat.JSON and stack_report is not None:
        document = {"databases": to_records(report), "stack": stack_to_records(stack_report)}
        typer.echo(json.dumps(document, indent=2))
    elif output_format is OutputFormat.JSON:
        typer.echo(to_json(report), nl=False)
    elif output_format is OutputFormat.CSV:
        typer.echo(to_csv(report), nl=False)
    else:
        console = stdout_console()
        costs, bes = to_table(report)
        best = next(e for e in report.estimates if e.option == report.cheapest)
        console.print(costs)
        console.print(f"Cheapest: {best.option} (${best.monthly_usd:.2f}/month)")
        console.print(bes)
        console.print(f"Prices: {table.origin}; formulas: docs/cost-model.md")
        if stack_report is not None:
            totals, items = stack_to_tables(stack_report)
            console.print(totals)
            console.print(items)
            console.print(years_to_table(stack_report))
            console.print(stack_report.idle_verdict())


def _sessions(value: int) -> float:
    if value < 1:
        raise InvalidInputError(
            f"--sessions-per-day: must be at least 1, got {value}", field="--sessions-per-day"
        )
    return float(value)


@app.command()
def plot(
    acu_when_active: AcuWhenActive,
    storage_gb: StorageGb,
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Output file, .png or .svg.", dir_okay=False, show_default=False
        ),
    ],
    active_hours_per_day: Annotated[
        float | None,
        typer.Option(
            "--active-hours-per-day",
            help="Mark this usage on the chart (the curves always span 0-24 h/day).",
        ),
    ] = None,
    io_millions_per_month: IoMillions = 0.0,
    region: Region = "us-east-1",
    sessions_per_day: Sessions = 1,
    pause_delay_seconds: PauseDelay = 300.0,
    idle_acu: IdleAcu = 0.5,
    instance_class: InstanceClass = AUTO_INSTANCE_CLASS,
    hours_per_month: HoursPerMonth = 730.0,
    backup_gb: BackupGb = 0.0,
    aurora_config: AuroraConfigOpt = AuroraConfig.STANDARD,
    pricing: PricingFile = None,
) -> None:
    """Chart the monthly cost of each option against active hours per day (0-24)."""
    from rms.cost.plot import plot_costs

    _, prices = _region(pricing, region)
    profile = Profile(
        active_hours_per_day=0.0 if active_hours_per_day is None else active_hours_per_day,
        acu_when_active=acu_when_active,
        storage_gb=storage_gb,
        io_millions_per_month=io_millions_per_month,
        sessions_per_day=_sessions(sessions_per_day),
        pause_delay_seconds=pause_delay_seconds,
        idle_acu=idle_acu,
        instance_class=instance_class,
        hours_per_month=hours_per_month,
        backup_gb=backup_gb,
        aurora_config=aurora_config,
    )
    _check_class(prices, instance_class)
    written = plot_costs(profile, prices, out, mark_profile=active_hours_per_day is not None)
    typer.echo(f"wrote {written}")


@app.command()
def measured(
    ctx: typer.Context,
    cluster: Annotated[
        str, typer.Option("--cluster", help="Aurora DB cluster identifier.", show_default=False)
    ],
    days: Annotated[int, typer.Option("--days", help="How many days back to read (1-455).")] = 7,
    region: Region = "us-east-1",
    period: Annotated[
        int | None,
        typer.Option(
            "--period", help="CloudWatch period in seconds [default: 300, 3600 beyond 63 days]."
        ),
    ] = None,
    pause_delay_seconds: PauseDelay = 300.0,
    idle_acu: IdleAcu = 0.5,
    instance_class: InstanceClass = AUTO_INSTANCE_CLASS,
    aurora_config: AuroraConfigOpt = AuroraConfig.STANDARD,
    output_format: Annotated[
        MeasuredFormat, typer.Option("--format", help="Output format.", case_sensitive=False)
    ] = MeasuredFormat.TABLE,
    pricing: PricingFile = None,
) -> None:
    """Actual ACU-hours, paused share and month cost of a cluster, from CloudWatch."""
    from rms.aws import client as aws_client
    from rms.cost.measured import measure

    table, prices = _region(pricing, region)
    _check_class(prices, instance_class)
    client = aws_client("cloudwatch", region=region, session_factory=hooks_of(ctx).session_factory)
    m = measure(
        client,
        cluster,
        days,
        prices,
        period=period,
        pause_delay_seconds=pause_delay_seconds,
        idle_acu=idle_acu,
        instance_class=instance_class,
        aurora_config=aurora_config,
    )
    report = build_report(m.profile, prices, table.origin)
    if output_format is MeasuredFormat.JSON:
        typer.echo(json.dumps(measured_record(m, report), indent=2))
        return
    console = stdout_console()
    console.print(_measured_table(m))
    costs, bes = to_table(report)
    console.print(costs)
    console.print(bes)


def measured_record(m: Measurement, report: EstimateReport) -> dict[str, Any]:
    """The ``measured --format json`` object: measurements plus the estimate beside them."""
    from rms.cost.report import to_records

    w = m.window
    return {
        "cluster": m.cluster_id,
        "region": m.region,
        "window": {
            "start": w.start.isoformat(),
            "end": w.end.isoformat(),
            "period_seconds": w.period_seconds,
            "expected_periods": w.expected_periods,
            "periods_with_data": w.periods_with_data,
            "missing_periods": w.missing_periods,
            "paused_periods": w.paused_periods,
            "acu_hours": round(w.acu_hours, 6),
            "paused_share": round(w.paused_share, 6),
            "missing_share": round(w.missing_share, 6),
            "wakeups": w.wakeups,
        },
        "storage_gb": None if m.storage_gb is None else round(m.storage_gb, 6),
        "io_millions": None if m.io_millions_window is None else round(m.io_millions_window, 6),
        "month_to_date": {
            "start": m.month_to_date.start.isoformat(),
            "acu_hours": round(m.month_to_date.acu_hours, 6),
            "missing_periods": m.month_to_date.missing_periods,
            "usd": round(m.month_to_date_usd, 4),
        },
        "projected_month_usd": round(m.projected_month_usd, 4),
        "month_hours": m.month_hours,
        "inferred_profile": {
            "active_hours_per_day": round(m.profile.active_hours_per_day, 4),
            "acu_when_active": round(m.profile.acu_when_active, 4),
            "sessions_per_day": round(m.profile.sessions_per_day, 4),
            "storage_gb": round(m.profile.storage_gb, 4),
            "io_millions_per_month": round(m.profile.io_millions_per_month, 6),
        },
        "estimate": to_records(report),
    }


def _measured_table(m: Measurement) -> Table:
    w = m.window
    t = Table(title=f"Measured: cluster {m.cluster_id} ({m.region})", show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    t.add_row("window", f"{w.start:%Y-%m-%d %H:%M} to {w.end:%Y-%m-%d %H:%M} UTC")
    t.add_row("period", f"{w.period_seconds} s")
    t.add_row("ACU-hours", f"{w.acu_hours:.2f}")
    t.add_row(
        "paused",
        f"{w.paused_share:.1%} of the time with data ({w.paused_hours:.1f} h)",
    )
    t.add_row(
        "missing datapoints",
        f"{w.missing_periods} of {w.expected_periods} periods ({w.missing_share:.1%}); "
        "counted neither paused nor awake",
    )
    t.add_row("wake-ups", str(w.wakeups))
    t.add_row("storage", "no data" if m.storage_gb is None else f"{m.storage_gb:.2f} GiB")
    t.add_row("I/O", "no data" if m.io_millions_window is None else f"{m.io_millions_window:.3f} M")
    t.add_row(
        "month to date",
        f"${m.month_to_date_usd:.2f} ({m.month_to_date.acu_hours:.2f} ACU-h, "
        f"{m.elapsed_month_hours:.0f} of {m.month_hours:.0f} h, "
        f"{m.month_to_date.missing_periods * m.month_to_date.period_hours:.0f} h without data)",
    )
    t.add_row("projected month", f"${m.projected_month_usd:.2f}")
    p = m.profile
    t.add_row(
        "inferred profile",
        f"{p.active_hours_per_day:.2f} active h/day, {p.acu_when_active:.2f} ACU when active, "
        f"{p.sessions_per_day:.2f} sessions/day",
    )
    return t


if __name__ == "__main__":  # pragma: no cover - ``python -m rms.cost.cli`` before ``rms cost``
    app()
