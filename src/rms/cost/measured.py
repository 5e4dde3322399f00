"""What an Aurora Serverless v2 cluster actually used, from CloudWatch.

The CloudWatch client is passed in (created by the CLI from ``--region`` through
:func:`rms.aws.client`), so tests hand in a moto client and nothing talks to AWS at import
time; AWS failures are translated by :func:`rms.aws.aws_errors`.

Metrics read (namespace ``AWS/RDS``, dimension ``DBClusterIdentifier``):

* ``ServerlessDatabaseCapacity``, statistic Average per period: ACU-hours are the sum of
  ``average * period / 3600`` over the datapoints. A datapoint of 0 is a paused period (Aurora
  keeps publishing 0 while paused).
* ``VolumeBytesUsed``, Average: the storage billed (mean over the window, in GiB).
* ``VolumeReadIOPs`` and ``VolumeWriteIOPs``, Average: each value is the count of billed I/O
  in a 5-minute interval, so a period holds ``average * period / 300`` of them whatever the
  publishing rate.

**Missing datapoints** (a period with no ``ServerlessDatabaseCapacity`` at all: the cluster did
not exist yet, was stopped or deleted, or CloudWatch has a gap) are neither paused nor awake:
they are counted and reported as *missing*, add no ACU-hours, and are left out of both sides of
the paused share (paused share = paused periods / periods with data). The projection to the
end of the month uses the rate observed over the periods with data.

A period counts as paused only if its average is exactly 0; a period that is partly paused
counts as awake (its ACU-hours are still exact). With the default 300 s period the paused share
is therefore a lower bound by at most one period per pause.

At cluster level ``ServerlessDatabaseCapacity`` is the *average* over the cluster's Serverless
v2 instances; the ACU-hours here are exact for the usual single-instance (writer only) cluster
and must be multiplied by the instance count for a cluster with readers.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from rms.aws import aws_errors
from rms.cost.model import AURORA_MIN_AWAKE_ACU, AURORA_SV2_MAX_ACU, AuroraConfig, Profile
from rms.cost.pricing import RegionPricing
from rms.errors import InvalidInputError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
else:
    CloudWatchClient = Any

__all__ = [
    "CAPACITY_METRIC",
    "CapacityStats",
    "Measurement",
    "Point",
    "capacity_stats",
    "default_period",
    "fetch_metric",
    "infer_profile",
    "measure",
]

NAMESPACE = "AWS/RDS"
CAPACITY_METRIC = "ServerlessDatabaseCapacity"
STORAGE_METRIC = "VolumeBytesUsed"
IO_METRICS = ("VolumeReadIOPs", "VolumeWriteIOPs")
#: ``GetMetricStatistics`` returns at most this many datapoints per call.
MAX_DATAPOINTS_PER_CALL = 1440
#: CloudWatch keeps 1-minute data 15 days, 5-minute data 63 days, 1-hour data 455 days.
MAX_DAYS = 455
GIB = float(1 << 30)

Point = tuple[datetime, float]


def default_period(days: int) -> int:
    """The finest period CloudWatch still holds for a window of ``days``."""
    return 300 if days <= 63 else 3600


def fetch_metric(
    client: CloudWatchClient,
    metric: str,
    cluster_id: str,
    start: datetime,
    end: datetime,
    period: int,
) -> list[Point]:
    """The Average datapoints of ``metric`` for the cluster in [start, end), sorted by time.

    The window is split into calls of at most 1440 datapoints (the API's limit).
    """
    chunk = timedelta(seconds=period * MAX_DATAPOINTS_PER_CALL)
    points: dict[datetime, float] = {}
    lo = start
    while lo < end:
        hi = min(lo + chunk, end)
        with aws_errors(
            f"cannot read {metric} of cluster {cluster_id!r} from CloudWatch",
            permission="cloudwatch:GetMetricStatistics",
        ):
            resp = client.get_metric_statistics(
                Namespace=NAMESPACE,
                MetricName=metric,
                Dimensions=[{"Name": "DBClusterIdentifier", "Value": cluster_id}],
                StartTime=lo,
                EndTime=hi,
                Period=period,
                Statistics=["Average"],
            )
        for dp in resp.get("Datapoints", []):
            ts = dp["Timestamp"].astimezone(UTC)
            value = dp.get("Average")
            if isinstance(value, int | float) and start <= ts < end:
                points[ts] = float(value)
        lo = hi
    return sorted(points.items())


@dataclass(frozen=True)
class CapacityStats:
    """ACU use over a window, at the resolution of ``period_seconds``."""

    start: datetime
    end: datetime
    period_seconds: int
    expected_periods: int
    periods_with_data: int
    paused_periods: int
    acu_hours: float
    wakeups: int

    @property
    def period_hours(self) -> float:
        return self.period_seconds / 3600.0

    @property
    def window_hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600.0

    @property
    def covered_hours(self) -> float:
        return self.periods_with_data * self.period_hours

    @property
    def paused_hours(self) -> float:
        return self.paused_periods * self.period_hours

    @property
    def awake_hours(self) -> float:
        return self.covered_hours - self.paused_hours

    @property
    def missing_periods(self) -> int:
        return max(0, self.expected_periods - self.periods_with_data)

    @property
    def paused_share(self) -> float:
        """Paused periods over periods with data (missing ones left out of both)."""
        if self.periods_with_data == 0:
            return 0.0
        return self.paused_periods / self.periods_with_data

    @property
    def missing_share(self) -> float:
        if self.expected_periods == 0:
            return 0.0
        return self.missing_periods / self.expected_periods


def capacity_stats(
    points: Sequence[Point], start: datetime, end: datetime, period: int
) -> CapacityStats:
    """ACU-hours, paused and missing periods, and wake-ups of ``points`` within [start, end).

    A wake-up is an awake datapoint whose previous datapoint was paused, or the first datapoint
    of the window if it is awake (the window opens in the middle of a session).
    """
    inside = [(ts, v) for ts, v in points if start <= ts < end]
    period_h = period / 3600.0
    expected = math.ceil((end - start).total_seconds() / period)
    paused = sum(1 for _, v in inside if v <= 0.0)
    acu_hours = sum(max(0.0, v) * period_h for _, v in inside)
    wakeups = 0
    previous_awake = False
    for _, v in inside:
        awake = v > 0.0
        if awake and not previous_awake:
            wakeups += 1
        previous_awake = awake
    return CapacityStats(
        start=start,
        end=end,
        period_seconds=period,
        expected_periods=expected,
        periods_with_data=len(inside),
        paused_periods=paused,
        acu_hours=acu_hours,
        wakeups=wakeups,
    )


def infer_profile(
    stats: CapacityStats,
    *,
    storage_gb: float,
    io_millions_per_month: float,
    pause_delay_seconds: float,
    idle_acu: float,
    hours_per_month: float,
    instance_class: str,
    aurora_config: AuroraConfig,
) -> Profile:
    """The usage profile that the measurements describe.

    Each wake-up starts a session; after each session the cluster stays awake for the pause
    delay at the idle capacity before it pauses. So, per observed day: sessions = wake-ups,
    active hours = awake hours - sessions * pause delay, and the ACU when active is what is
    left of the ACU-hours once those idle tails are taken out, over the active hours.
    """
    days = stats.covered_hours / 24.0
    if days <= 0.0:
        raise InvalidInputError("--cluster: no capacity datapoints to infer a profile from")
    sessions = stats.wakeups / days
    delay_h = pause_delay_seconds / 3600.0
    awake_per_day = stats.awake_hours / days
    tails = min(awake_per_day, sessions * delay_h)
    active = max(0.0, min(24.0, awake_per_day - tails))
    acu_per_day = stats.acu_hours / days
    if active > 0.0:
        acu_active = (acu_per_day - tails * idle_acu) / active
        acu_active = min(AURORA_SV2_MAX_ACU, max(AURORA_MIN_AWAKE_ACU, idle_acu, acu_active))
    else:
        acu_active = max(AURORA_MIN_AWAKE_ACU, idle_acu)
    return Profile(
        active_hours_per_day=active,
        acu_when_active=acu_active,
        storage_gb=storage_gb,
        io_millions_per_month=io_millions_per_month,
        sessions_per_day=sessions if sessions > 0.0 else 1.0,
        pause_delay_seconds=pause_delay_seconds,
        idle_acu=idle_acu,
        instance_class=instance_class,
        hours_per_month=hours_per_month,
        aurora_config=aurora_config,
    )


@dataclass(frozen=True)
class Measurement:
    """The result of ``rms cost measured``."""

    cluster_id: str
    region: str
    window: CapacityStats
    month_to_date: CapacityStats
    storage_gb: float | None
    io_millions_window: float | None
    io_millions_month_to_date: float | None
    month_hours: float
    month_to_date_usd: float
    projected_month_usd: float
    profile: Profile

    @property
    def elapsed_month_hours(self) -> float:
        return self.month_to_date.window_hours


def _month_bounds(now: datetime) -> tuple[datetime, float]:
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    days = calendar.monthrange(now.year, now.month)[1]
    return start, days * 24.0


def _io_millions(points: Sequence[Point], start: datetime, end: datetime, period: int) -> float:
    return sum(v * period / 300.0 for ts, v in points if start <= ts < end) / 1e6


def measure(
    client: CloudWatchClient,
    cluster_id: str,
    days: int,
    pricing: RegionPricing,
    *,
    now: datetime | None = None,
    period: int | None = None,
    pause_delay_seconds: float = 300.0,
    idle_acu: float = 0.5,
    instance_class: str = "auto",
    aurora_config: AuroraConfig = AuroraConfig.STANDARD,
    read_io: bool = True,
) -> Measurement:
    """Read the cluster's metrics for the last ``days`` days and cost them.

    The window ends at ``now`` rounded down to the period. Month-to-date covers the first of
    the current month (UTC) to the same end; both come from one read of
    ``min(window start, month start)`` to the end.
    """
    if not cluster_id.strip():
        raise InvalidInputError("--cluster: must not be empty", field="--cluster")
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInputError(
            f"--days: must be between 1 and {MAX_DAYS} (CloudWatch retention), got {days}",
            field="--days",
        )
    period = period if period is not None else default_period(days)
    if period <= 0 or period % 60 != 0:
        raise InvalidInputError(
            f"--period: must be a positive multiple of 60 seconds, got {period}", field="--period"
        )
    now = (now or datetime.now(UTC)).astimezone(UTC)
    end = datetime.fromtimestamp(math.floor(now.timestamp() / period) * period, tz=UTC)
    start = end - timedelta(days=days)
    month_start, month_hours = _month_bounds(end)
    read_from = min(start, month_start)

    capacity = fetch_metric(client, CAPACITY_METRIC, cluster_id, read_from, end, period)
    window = capacity_stats(capacity, start, end, period)
    mtd = capacity_stats(capacity, month_start, end, period)
    if window.periods_with_data == 0:
        raise InvalidInputError(
            f"--cluster: no {CAPACITY_METRIC} datapoints for cluster {cluster_id!r} in "
            f"{pricing.region} over the last {days} days (wrong cluster id or region, or not "
            "an Aurora Serverless v2 cluster?)",
            field="--cluster",
        )

    storage_pts = fetch_metric(client, STORAGE_METRIC, cluster_id, read_from, end, period)
    in_window = [v for ts, v in storage_pts if start <= ts < end]
    storage_gb = (sum(in_window) / len(in_window) / GIB) if in_window else None

    io_window: float | None = None
    io_mtd: float | None = None
    if read_io:
        io_pts: list[Point] = []
        for metric in IO_METRICS:
            io_pts.extend(fetch_metric(client, metric, cluster_id, read_from, end, period))
        if io_pts:
            io_window = _io_millions(io_pts, start, end, period)
            io_mtd = _io_millions(io_pts, month_start, end, period)

    if aurora_config is AuroraConfig.IO_OPTIMIZED:
        acu_price = pricing.aurora_sv2_acu_hour_io_optimized.usd
        gb_price = pricing.aurora_storage_gb_month_io_optimized.usd
        io_price = 0.0
    else:
        acu_price = pricing.aurora_sv2_acu_hour_standard.usd
        gb_price = pricing.aurora_storage_gb_month_standard.usd
        io_price = pricing.aurora_io_per_million_standard.usd
    gb = storage_gb or 0.0
    storage_per_hour = gb * gb_price / month_hours
    mtd_usd = (
        mtd.acu_hours * acu_price + (io_mtd or 0.0) * io_price + storage_per_hour * mtd.window_hours
    )
    # Rate observed over the periods with data in the window, applied to the rest of the month.
    if window.covered_hours > 0:
        rate = (window.acu_hours * acu_price + (io_window or 0.0) * io_price) / (
            window.covered_hours
        )
    else:  # pragma: no cover - excluded above
        rate = 0.0
    remaining = max(0.0, month_hours - mtd.window_hours)
    projected = mtd_usd + remaining * (rate + storage_per_hour)

    io_per_month = (
        (io_window or 0.0) * month_hours / window.covered_hours if window.covered_hours else 0.0
    )
    profile = infer_profile(
        window,
        storage_gb=gb,
        io_millions_per_month=io_per_month,
        pause_delay_seconds=pause_delay_seconds,
        idle_acu=idle_acu,
        hours_per_month=month_hours,
        instance_class=instance_class,
        aurora_config=aurora_config,
    )
    return Measurement(
        cluster_id=cluster_id,
        region=pricing.region,
        window=window,
        month_to_date=mtd,
        storage_gb=storage_gb,
        io_millions_window=io_window,
        io_millions_month_to_date=io_mtd,
        month_hours=month_hours,
        month_to_date_usd=mtd_usd,
        projected_month_usd=projected,
        profile=profile,
    )
