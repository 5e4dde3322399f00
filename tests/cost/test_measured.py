"""``rms cost measured`` against moto's CloudWatch with synthetic ServerlessDatabaseCapacity.

moto 5 stores ``put_metric_data`` points at any timestamp and answers ``get_metric_statistics``
with real per-period Average buckets (aligned to StartTime); it does not enforce the 1440
datapoint limit, so the chunking is checked by counting calls.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from rms.cost.measured import (
    CAPACITY_METRIC,
    capacity_stats,
    fetch_metric,
    infer_profile,
    measure,
)
from rms.cost.model import AuroraConfig, estimate
from rms.cost.pricing import RegionPricing
from rms.errors import InvalidInputError
from tests.rms_cli import run_rms

CLUSTER = "rms-aurora"
GIB = 1 << 30
# The window is exactly March 1st (UTC), so month-to-date and the window coincide.
NOW = datetime(2026, 3, 2, 0, 0, 40, tzinfo=UTC)
DAY_START = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def cw(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("cloudwatch", region_name="us-east-1")


def put(cw: Any, metric: str, points: Sequence[tuple[datetime, float]]) -> None:
    data = [
        {
            "MetricName": metric,
            "Dimensions": [{"Name": "DBClusterIdentifier", "Value": CLUSTER}],
            "Timestamp": ts,
            "Value": value,
        }
        for ts, value in points
    ]
    for i in range(0, len(data), 500):
        cw.put_metric_data(Namespace="AWS/RDS", MetricData=data[i : i + 500])


def synthetic_day() -> list[tuple[datetime, float]]:
    """One day of 5-minute capacity: two sessions, paused runs, and a gap of missing data.

    periods   0- 95  paused (0)          96
             96-119  1 ACU (2 h session)  24
                120  0.5 ACU (the 300 s pause-delay tail)
            121-215  paused              95
            216-227  2 ACU (1 h session)  12
                228  0.5 ACU tail
            229-239  missing (no datapoint at all)  11
            240-287  paused              48
    """
    values: dict[int, float] = {}
    for i in range(0, 96):
        values[i] = 0.0
    for i in range(96, 120):
        values[i] = 1.0
    values[120] = 0.5
    for i in range(121, 216):
        values[i] = 0.0
    for i in range(216, 228):
        values[i] = 2.0
    values[228] = 0.5
    for i in range(240, 288):
        values[i] = 0.0
    return [(DAY_START + timedelta(minutes=5 * i), v) for i, v in sorted(values.items())]


# hand-computed from the table above
ACU_HOURS = (24 * 1.0 + 0.5 + 12 * 2.0 + 0.5) / 12  # 49/12 = 4.0833
WITH_DATA = 288 - 11  # 277
PAUSED = 96 + 95 + 48  # 239


def test_capacity_stats_by_hand() -> None:
    stats = capacity_stats(synthetic_day(), DAY_START, DAY_START + timedelta(days=1), 300)
    assert stats.acu_hours == pytest.approx(ACU_HOURS)
    assert stats.expected_periods == 288
    assert stats.periods_with_data == WITH_DATA
    assert stats.missing_periods == 11
    assert stats.paused_periods == PAUSED
    assert stats.paused_share == pytest.approx(239 / 277)
    assert stats.missing_share == pytest.approx(11 / 288)
    assert stats.paused_hours == pytest.approx(239 / 12)
    assert stats.awake_hours == pytest.approx(38 / 12)
    assert stats.wakeups == 2


def test_inferred_profile_reproduces_the_measured_acu_hours(prices: RegionPricing) -> None:
    stats = capacity_stats(synthetic_day(), DAY_START, DAY_START + timedelta(days=1), 300)
    profile = infer_profile(
        stats,
        storage_gb=20.0,
        io_millions_per_month=0.0,
        pause_delay_seconds=300,
        idle_acu=0.5,
        hours_per_month=24.0,
        instance_class="db.t4g.micro",
        aurora_config=AuroraConfig.STANDARD,
    )
    days = 277 / 12 / 24
    assert profile.sessions_per_day == pytest.approx(2 / days)
    # the two sessions hold 36 periods and 48 ACU-periods: 1.333 ACU when active
    assert profile.acu_when_active == pytest.approx(48 / 36)
    assert profile.active_hours_per_day == pytest.approx((38 / 12) / days - (2 / days) / 12)
    # scaled to the 24 h the data covers (plus missing), the model gives back the ACU-hours
    est = estimate("aurora-sv2-scale-to-zero", profile, prices)
    assert est.assumptions["acu_hours_per_month"] == pytest.approx(ACU_HOURS / days)


def test_measure_against_moto(cw: Any, prices: RegionPricing) -> None:
    put(cw, CAPACITY_METRIC, synthetic_day())
    put(cw, "VolumeBytesUsed", [(DAY_START + timedelta(hours=h), 20 * GIB) for h in range(24)])
    # 3000 billed reads in each of the 12 periods of the 1 h session, 1000 writes in one
    put(
        cw,
        "VolumeReadIOPs",
        [(DAY_START + timedelta(minutes=5 * i), 3000.0) for i in range(216, 228)],
    )
    put(cw, "VolumeWriteIOPs", [(DAY_START + timedelta(minutes=5 * 100), 1000.0)])

    m = measure(cw, CLUSTER, 1, prices, now=NOW)
    w = m.window
    assert (w.start, w.end) == (DAY_START, DAY_START + timedelta(days=1))
    assert w.acu_hours == pytest.approx(ACU_HOURS)
    assert w.paused_share == pytest.approx(239 / 277)
    assert w.missing_periods == 11
    assert m.storage_gb == pytest.approx(20.0)
    assert m.io_millions_window == pytest.approx(0.037)
    assert m.month_hours == 31 * 24
    # month to date = the window: ACU-h at $0.12, 20 GB at $0.10 for 24 of 744 h, I/O at $0.20/M
    mtd = ACU_HOURS * 0.12 + 20 * 0.10 * 24 / 744 + 0.037 * 0.20
    assert m.month_to_date_usd == pytest.approx(mtd)
    # the rest of the month at the rate seen over the 277 periods with data
    rate = (ACU_HOURS * 0.12 + 0.037 * 0.20) / (277 / 12) + 20 * 0.10 / 744
    assert m.projected_month_usd == pytest.approx(mtd + 720 * rate)


def test_hourly_period_gives_the_same_acu_hours_without_gaps(cw: Any) -> None:
    points = synthetic_day()
    # fill the gap with zeros so no hourly bucket is partly missing
    points += [(DAY_START + timedelta(minutes=5 * i), 0.0) for i in range(229, 240)]
    put(cw, CAPACITY_METRIC, points)
    hourly = fetch_metric(
        cw, CAPACITY_METRIC, CLUSTER, DAY_START, DAY_START + timedelta(days=1), 3600
    )
    assert len(hourly) == 24
    stats = capacity_stats(hourly, DAY_START, DAY_START + timedelta(days=1), 3600)
    assert stats.acu_hours == pytest.approx(ACU_HOURS)
    # hours 8, 9 and 18 are sessions; hours 10 and 19 hold only a 5-minute tail but count as
    # awake too: at 3600 s the paused share is 19/24, against 239/288 at 300 s
    assert stats.paused_periods == 24 - 5


def test_long_windows_are_read_in_chunks_of_1440(cw: Any) -> None:
    start = DAY_START
    put(cw, CAPACITY_METRIC, [(start + timedelta(minutes=5 * i), 0.5) for i in range(2000)])
    calls: list[str] = []
    cw.meta.events.register(
        "before-call.cloudwatch.GetMetricStatistics", lambda **kw: calls.append("x")
    )
    pts = fetch_metric(cw, CAPACITY_METRIC, CLUSTER, start, start + timedelta(days=7), 300)
    assert len(pts) == 2000
    assert len(calls) == 2  # 2016 periods in a week, 1440 per call


def test_no_datapoints_is_a_clear_error(cw: Any, prices: RegionPricing) -> None:
    with pytest.raises(InvalidInputError, match="no ServerlessDatabaseCapacity datapoints") as ei:
        measure(cw, "other-cluster", 1, prices, now=NOW)
    assert ei.value.field == "--cluster"


@pytest.mark.parametrize(("days", "period"), [(0, None), (500, None), (1, 90)])
def test_bad_days_or_period(cw: Any, prices: RegionPricing, days: int, period: int | None) -> None:
    with pytest.raises(InvalidInputError, match=r"--days|--period"):
        measure(cw, CLUSTER, days, prices, now=NOW, period=period)


def _recent_day(now: datetime) -> list[tuple[datetime, float]]:
    """The synthetic day shifted to end at the current 5-minute boundary (for the CLI)."""
    end = datetime.fromtimestamp(now.timestamp() // 300 * 300, tz=UTC)
    shift = end - timedelta(days=1) - DAY_START
    return [(ts + shift, v) for ts, v in synthetic_day()]


def test_cli_measured_json_and_table(cw: Any) -> None:
    put(cw, CAPACITY_METRIC, _recent_day(datetime.now(UTC)))
    result = run_rms("cost", "measured", "--cluster", CLUSTER, "--days", "1", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["window"]["acu_hours"] == pytest.approx(ACU_HOURS, abs=1e-6)
    assert doc["window"]["paused_share"] == pytest.approx(239 / 277, abs=1e-6)
    assert doc["window"]["missing_periods"] == 11
    assert doc["storage_gb"] is None
    assert {r["option"] for r in doc["estimate"]} == {
        "rds-single-az",
        "rds-multi-az",
        "aurora-sv2-floor",
        "aurora-sv2-scale-to-zero",
    }
    assert doc["inferred_profile"]["acu_when_active"] == pytest.approx(48 / 36, abs=1e-4)

    result = run_rms("cost", "measured", "--cluster", CLUSTER, "--days", "1")
    assert result.exit_code == 0, result.output
    assert "ACU-hours" in result.stdout
    assert "4.08" in result.stdout
    assert "86.3% of the time with data" in result.stdout
    assert "11 of 288 periods" in result.stdout
    assert "Monthly cost" in result.stdout


def test_cli_measured_unknown_cluster(cw: Any) -> None:
    result = run_rms("cost", "measured", "--cluster", "nope", "--days", "2")
    assert result.exit_code == 2
    assert "error: --cluster: no ServerlessDatabaseCapacity datapoints" in result.stderr
    assert "Traceback" not in result.output


def test_cli_measured_unknown_region(cw: Any) -> None:
    result = run_rms("cost", "measured", "--cluster", CLUSTER, "--days", "2", "--region", "xx-1")
    assert result.exit_code == 2
    assert "error: --region: unknown region 'xx-1'" in result.stderr


def test_aws_errors_name_the_metric_and_the_permission(
    prices: RegionPricing, aws_env: None
) -> None:
    from botocore.stub import Stubber

    from rms.errors import AwsError

    client = boto3.client("cloudwatch", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("get_metric_statistics", "AccessDenied", "not allowed here")
        with pytest.raises(AwsError) as caught:
            measure(client, CLUSTER, 1, prices, now=NOW)
    message = caught.value.message
    assert f"cannot read {CAPACITY_METRIC} of cluster {CLUSTER!r} from CloudWatch" in message
    assert "the role needs cloudwatch:GetMetricStatistics" in message
    assert "not allowed here" in message
    assert caught.value.kind == "denied"
