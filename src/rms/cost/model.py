"""The cost model: monthly cost of each deployment option for a usage profile.

Plain arithmetic on a :class:`Profile` and a :class:`~rms.cost.pricing.RegionPricing`; no I/O.
The formulas are written out in ``docs/cost-model.md``. In short, with ``D = hours_per_month /
24`` days a month, ``H`` active hours a day split into ``S`` evenly spaced sessions, pause delay
``d`` hours:

* RDS (single-AZ or Multi-AZ): ``hourly * hours_per_month + max(G, 20) * gp3``. The instance runs
  all month whatever the usage; gp3 cannot be allocated below 20 GB. The class is, unless named,
  the cheapest one in the pricing table with the memory of the Aurora load it is compared with
  (``A`` ACU x 2 GiB): like for like. Past the largest class priced, the comparison is refused.
* Aurora Serverless v2, 0.5 ACU floor: ``D * (H * A + (24 - H) * max(0.5, idle_acu))`` ACU-hours.
  A 0.5 ACU minimum never pauses.
* Aurora Serverless v2, minimum 0 (scale to zero): ``D * (H * A + S * min(gap, d) * idle_acu)``
  ACU-hours with ``gap = (24 - H) / S``: after each session the instance stays awake at the idle
  capacity for the pause delay, unless the next session starts first (then it never pauses in
  that gap). Zero while paused. Evenly spaced sessions are the worst case for a given ``S`` (the
  sum of ``min(gap_i, d)`` over gaps of fixed total is largest when the gaps are equal), so the
  estimate errs on the dear side.
* Aurora storage ``G * storage``, I/O ``N * io`` (zero on I/O-Optimized), backup beyond the free
  share ``B * backup``, for both Aurora options.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from itertools import combinations

from rms.cost.pricing import RegionPricing
from rms.errors import InvalidInputError

__all__ = [
    "AURORA_MIN_AWAKE_ACU",
    "AURORA_SV2_MAX_ACU",
    "AUTO_INSTANCE_CLASS",
    "FLOOR_MIN_ACU",
    "GIB_PER_ACU",
    "OPTIONS",
    "RDS_GP3_MIN_STORAGE_GB",
    "AuroraConfig",
    "BreakEven",
    "Breakdown",
    "Estimate",
    "Profile",
    "awake_hours_per_day",
    "break_even",
    "break_evens",
    "cheapest",
    "estimate",
    "estimate_all",
    "monthly_cost_curve",
    "rds_instance_class",
]

OPTIONS: tuple[str, ...] = (
    "rds-single-az",
    "rds-multi-az",
    "aurora-sv2-floor",
    "aurora-sv2-scale-to-zero",
)

#: The smallest minimum capacity that is not zero; a cluster with it never pauses.
FLOOR_MIN_ACU = 0.5
#: An awake Serverless v2 instance never runs below this, even with a minimum of 0.
AURORA_MIN_AWAKE_ACU = 0.5
AURORA_SV2_MAX_ACU = 256.0
#: RDS for PostgreSQL cannot allocate gp3 storage below 20 GB, so it bills at least that.
RDS_GP3_MIN_STORAGE_GB = 20.0
#: Aurora's limits on ``seconds_until_auto_pause``.
PAUSE_DELAY_MIN_S = 300.0
PAUSE_DELAY_MAX_S = 86_400.0
#: "One ACU is about 2 GiB of memory, with the CPU and networking that go with it" (Aurora
#: Serverless v2 documentation): what an RDS instance must hold to carry the same load.
GIB_PER_ACU = 2.0
#: ``instance_class`` meaning "the cheapest class with the memory of the Aurora load".
AUTO_INSTANCE_CLASS = "auto"
#: Aurora storage can grow to 128 TiB.
MAX_STORAGE_GB = 128.0 * 1024


class AuroraConfig(StrEnum):
    """Aurora cluster storage configuration: pay per I/O, or pay more per ACU and GB instead."""

    STANDARD = "standard"
    IO_OPTIMIZED = "io-optimized"


@dataclass(frozen=True)
class Profile:
    """How the owner uses the database, and the settings that decide what it costs.

    ``sessions_per_day`` is a float so a profile inferred from measurements can carry an
    average; the CLI takes a whole number.
    """

    active_hours_per_day: float
    acu_when_active: float
    storage_gb: float
    io_millions_per_month: float = 0.0
    sessions_per_day: float = 1.0
    pause_delay_seconds: float = 300.0
    idle_acu: float = 0.5
    #: ``auto``: the cheapest class with ``acu_when_active * GIB_PER_ACU`` GiB (like for like).
    instance_class: str = AUTO_INSTANCE_CLASS
    hours_per_month: float = 730.0
    backup_gb: float = 0.0
    aurora_config: AuroraConfig = AuroraConfig.STANDARD

    def __post_init__(self) -> None:
        _check_range("--active-hours-per-day", self.active_hours_per_day, 0.0, 24.0)
        _check_range(
            "--acu-when-active", self.acu_when_active, AURORA_MIN_AWAKE_ACU, AURORA_SV2_MAX_ACU
        )
        _check_range("--idle-acu", self.idle_acu, AURORA_MIN_AWAKE_ACU, AURORA_SV2_MAX_ACU)
        if self.idle_acu > self.acu_when_active:
            raise InvalidInputError(
                f"--idle-acu: must not exceed --acu-when-active ({self.acu_when_active:g}), "
                f"got {self.idle_acu:g}",
                field="--idle-acu",
            )
        _check_range("--storage-gb", self.storage_gb, 0.0, MAX_STORAGE_GB)
        _check_range("--io-millions-per-month", self.io_millions_per_month, 0.0, math.inf)
        _check_range("--backup-gb", self.backup_gb, 0.0, math.inf)
        _check_range("--sessions-per-day", self.sessions_per_day, 0.0, 24.0 * 60, low_open=True)
        _check_range(
            "--pause-delay-seconds", self.pause_delay_seconds, PAUSE_DELAY_MIN_S, PAUSE_DELAY_MAX_S
        )
        _check_range("--hours-per-month", self.hours_per_month, 0.0, 31 * 24.0, low_open=True)
        if not self.instance_class:
            raise InvalidInputError("--instance-class: must not be empty", field="--instance-class")

    @property
    def days_per_month(self) -> float:
        return self.hours_per_month / 24.0

    def describe(self) -> str:
        """One line naming the profile, for titles and table captions."""
        sessions = _fmt_num(self.sessions_per_day)
        return (
            f"{_fmt_num(self.active_hours_per_day)} active h/day in {sessions} "
            f"session{'s' if self.sessions_per_day != 1 else ''}, "
            f"{_fmt_num(self.acu_when_active)} ACU when active, "
            f"{_fmt_num(self.storage_gb)} GB, {_fmt_num(self.io_millions_per_month)} M I/O/month, "
            f"pause delay {_fmt_num(self.pause_delay_seconds)} s, "
            f"{_class_words(self)}, {_fmt_num(self.hours_per_month)} h/month"
        )


def _class_words(profile: Profile) -> str:
    if profile.instance_class == AUTO_INSTANCE_CLASS:
        gib = profile.acu_when_active * GIB_PER_ACU
        return f"RDS class with {_fmt_num(gib)} GiB like the ACU load"
    return profile.instance_class


def rds_instance_class(profile: Profile, region: RegionPricing) -> str:
    """The RDS class the RDS options are priced with.

    A named class is taken as it is (an unknown one is the user's input error). ``auto`` is the
    cheapest class whose memory holds the Aurora load it is compared with, ``acu_when_active``
    ACU at 2 GiB each; when no class priced is that big the comparison is refused, naming the
    largest class and what it holds.
    """
    if profile.instance_class != AUTO_INSTANCE_CLASS:
        region.instance(profile.instance_class)
        return profile.instance_class
    need = profile.acu_when_active * GIB_PER_ACU
    chosen = region.instance_for_memory(need)
    if chosen is not None:
        return chosen
    largest = region.largest_instance()
    if largest is None:
        reason = (
            "the pricing table gives no RDS instance sizes (rds_instances.<class>.spec), so no "
            "class can be matched to the load"
        )
    else:
        name, spec = largest
        reason = (
            f"{_fmt_num(profile.acu_when_active)} ACU is about {_fmt_num(need)} GiB of memory, "
            f"more than the largest RDS class priced in {region.region} ({name}, "
            f"{_fmt_num(spec.memory_gib)} GiB, about {_fmt_num(spec.memory_gib / GIB_PER_ACU)} "
            "ACU), so RDS cannot be compared like for like"
        )
    raise InvalidInputError(
        f"--acu-when-active: {reason}; name a class with --instance-class to compare anyway",
        field="--acu-when-active",
    )


def _fmt_num(value: float) -> str:
    return f"{round(value, 2):g}"


def _check_range(
    name: str, value: float, low: float, high: float, *, low_open: bool = False
) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise InvalidInputError(f"{name}: must be a number, got {value!r}", field=name)
    too_low = value <= low if low_open else value < low
    if too_low or value > high:
        low_word = "above" if low_open else "at least"
        high_part = "" if math.isinf(high) else f" and at most {high:g}"
        raise InvalidInputError(
            f"{name}: must be {low_word} {low:g}{high_part}, got {value:g}", field=name
        )


@dataclass(frozen=True)
class Breakdown:
    """Monthly dollars by component."""

    compute: float
    storage: float
    io: float
    backup: float

    @property
    def total(self) -> float:
        return self.compute + self.storage + self.io + self.backup


@dataclass(frozen=True)
class Estimate:
    """The monthly cost of one option, with its parts and the quantities behind them."""

    option: str
    breakdown: Breakdown
    assumptions: dict[str, float | str] = field(default_factory=dict)

    @property
    def monthly_usd(self) -> float:
        return self.breakdown.total


def awake_hours_per_day(profile: Profile) -> tuple[float, float]:
    """(active, awake-but-idle) hours a day of a scale-to-zero cluster.

    With no active hours nothing wakes the cluster. Otherwise each of the ``S`` gaps between
    sessions (evenly spaced, the last wrapping round to the next day) keeps it awake for
    ``min(gap, pause delay)``; with 24 active hours there is no gap and it never pauses.
    """
    active = profile.active_hours_per_day
    if active <= 0.0:
        return 0.0, 0.0
    gap = (24.0 - active) / profile.sessions_per_day
    delay_h = profile.pause_delay_seconds / 3600.0
    return active, profile.sessions_per_day * min(gap, delay_h)


def _aurora_prices(region: RegionPricing, config: AuroraConfig) -> tuple[float, float, float]:
    if config is AuroraConfig.IO_OPTIMIZED:
        return (
            region.aurora_sv2_acu_hour_io_optimized.usd,
            region.aurora_storage_gb_month_io_optimized.usd,
            0.0,
        )
    return (
        region.aurora_sv2_acu_hour_standard.usd,
        region.aurora_storage_gb_month_standard.usd,
        region.aurora_io_per_million_standard.usd,
    )


def estimate(option: str, profile: Profile, region: RegionPricing) -> Estimate:
    """Monthly cost of ``option`` (one of :data:`OPTIONS`) for ``profile`` in ``region``."""
    if option in ("rds-single-az", "rds-multi-az"):
        instance_class = rds_instance_class(profile, region)
        inst = region.instance(instance_class)
        multi = option == "rds-multi-az"
        hourly = (inst.multi_az_hour if multi else inst.single_az_hour).usd
        gp3 = (region.rds_gp3_gb_month_multi_az if multi else region.rds_gp3_gb_month_single_az).usd
        billed_gb = max(profile.storage_gb, RDS_GP3_MIN_STORAGE_GB)
        return Estimate(
            option=option,
            breakdown=Breakdown(
                compute=hourly * profile.hours_per_month,
                storage=billed_gb * gp3,
                io=0.0,
                backup=profile.backup_gb * region.rds_backup_gb_month.usd,
            ),
            assumptions={
                "instance_class": instance_class,
                "instance_chosen_by": (
                    "the load" if profile.instance_class == AUTO_INSTANCE_CLASS else "name"
                ),
                "load_memory_gib": profile.acu_when_active * GIB_PER_ACU,
                "instance_memory_gib": inst.spec.memory_gib if inst.spec else "unknown",
                "instance_vcpu": inst.spec.vcpu if inst.spec else "unknown",
                "instance_hours_per_month": profile.hours_per_month,
                "usd_per_instance_hour": hourly,
                "billed_storage_gb": billed_gb,
                "usd_per_gb_month": gp3,
            },
        )
    if option in ("aurora-sv2-floor", "aurora-sv2-scale-to-zero"):
        acu_price, storage_price, io_price = _aurora_prices(region, profile.aurora_config)
        active = profile.active_hours_per_day
        if option == "aurora-sv2-floor":
            idle_acu = max(FLOOR_MIN_ACU, profile.idle_acu)
            idle_h = 24.0 - active
        else:
            idle_acu = profile.idle_acu
            active, idle_h = awake_hours_per_day(profile)
        acu_hours = profile.days_per_month * (active * profile.acu_when_active + idle_h * idle_acu)
        paused_h = 24.0 - active - idle_h
        return Estimate(
            option=option,
            breakdown=Breakdown(
                compute=acu_hours * acu_price,
                storage=profile.storage_gb * storage_price,
                io=profile.io_millions_per_month * io_price,
                backup=profile.backup_gb * region.aurora_backup_gb_month.usd,
            ),
            assumptions={
                "aurora_config": profile.aurora_config.value,
                "acu_hours_per_month": acu_hours,
                "usd_per_acu_hour": acu_price,
                "awake_idle_hours_per_day": idle_h,
                "idle_acu": idle_acu,
                "paused_hours_per_day": max(0.0, paused_h),
                "usd_per_gb_month": storage_price,
            },
        )
    raise InvalidInputError(
        f"option: unknown option {option!r}; expected one of {', '.join(OPTIONS)}",
        field="option",
    )


def estimate_all(profile: Profile, region: RegionPricing) -> list[Estimate]:
    """The four options, in :data:`OPTIONS` order."""
    return [estimate(option, profile, region) for option in OPTIONS]


def cheapest(estimates: Sequence[Estimate]) -> str:
    """The option with the lowest monthly cost (the first listed wins a tie to the cent)."""
    return min(estimates, key=lambda e: round(e.monthly_usd, 2)).option


@dataclass(frozen=True)
class BreakEven:
    """Where two options cost the same, as a function of active hours per day (0 to 24).

    ``crossings`` are the active hours/day where the cheaper of the two changes. When there is
    none, ``cheaper`` names the option that is never dearer over 0-24 h (``None`` if they cost
    the same throughout).
    """

    option_a: str
    option_b: str
    crossings: tuple[float, ...]
    cheaper: str | None

    def describe(self) -> str:
        if self.crossings:
            return ", ".join(f"{h:.2f} h/day" for h in self.crossings)
        if self.cheaper is None:
            return "none in 0-24h (same cost throughout)"
        return f"none in 0-24h ({self.cheaper} is never dearer)"


_GRID_STEPS = 2400  # 0.01 h resolution; the cost curves are piecewise linear with few kinks
_EPS_USD = 1e-9


def monthly_cost_curve(
    option: str, profile: Profile, region: RegionPricing
) -> Callable[[float], float]:
    """Monthly cost of ``option`` as a function of active hours/day, all else as in ``profile``."""

    def cost(hours: float) -> float:
        return estimate(option, _with_hours(profile, hours), region).monthly_usd

    return cost


def _with_hours(profile: Profile, hours: float) -> Profile:
    return replace(profile, active_hours_per_day=min(24.0, max(0.0, hours)))


def _sign(value: float) -> int:
    if value > _EPS_USD:
        return 1
    if value < -_EPS_USD:
        return -1
    return 0


def break_even(option_a: str, option_b: str, profile: Profile, region: RegionPricing) -> BreakEven:
    """Active hours/day in 0..24 where ``option_a`` and ``option_b`` cost the same.

    Numerical: the difference is sampled every 0.01 h and each change of sign is refined by
    bisection to 1e-9 h. Where the two are equal over a stretch (a scale-to-zero cluster whose
    gaps are shorter than the pause delay costs exactly what a 0.5 ACU floor does) the crossing
    is reported only if the cheaper option differs on the two sides of the stretch.
    """
    fa = monthly_cost_curve(option_a, profile, region)
    fb = monthly_cost_curve(option_b, profile, region)

    def diff(h: float) -> float:
        return fa(h) - fb(h)

    xs = [24.0 * i / _GRID_STEPS for i in range(_GRID_STEPS + 1)]
    signs = [_sign(diff(x)) for x in xs]
    crossings: list[float] = []
    last_sign = 0
    last_x = 0.0
    for x, s in zip(xs, signs, strict=True):
        if s == 0:
            continue
        if last_sign != 0 and s != last_sign:
            lo, hi = last_x, x
            for _ in range(80):
                mid = (lo + hi) / 2.0
                if _sign(diff(mid)) == last_sign:
                    lo = mid
                else:
                    hi = mid
                if hi - lo < 1e-9:
                    break
            crossings.append((lo + hi) / 2.0)
        last_sign, last_x = s, x
    cheaper: str | None = None
    if not crossings:
        nonzero = [s for s in signs if s != 0]
        if nonzero:
            cheaper = option_b if nonzero[0] > 0 else option_a
    return BreakEven(option_a, option_b, tuple(crossings), cheaper)


def break_evens(profile: Profile, region: RegionPricing) -> list[BreakEven]:
    """Break-even points between each pair of the four options."""
    return [break_even(a, b, profile, region) for a, b in combinations(OPTIONS, 2)]
