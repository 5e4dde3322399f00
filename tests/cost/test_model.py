"""The cost arithmetic against hand-computed cases, and the break-even solver.

Hand arithmetic uses the ARCHITECTURE.md us-east-1 prices: $0.12/ACU-h, Aurora storage
$0.10/GB-month, I/O $0.20/million, Aurora backup $0.021/GB-month; db.t4g.micro $0.016/h
(Multi-AZ $0.032/h), gp3 $0.115/GB-month. A 730-hour month has D = 730/24 = 30.41666... days.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rms.cost.model import (
    AuroraConfig,
    Profile,
    awake_hours_per_day,
    break_even,
    break_evens,
    cheapest,
    estimate,
    estimate_all,
    monthly_cost_curve,
)
from rms.cost.pricing import RegionPricing
from rms.errors import InvalidInputError

D = 730 / 24  # days in a 730-hour month
APPROX = {"abs": 1e-9}


def base(**kw: object) -> Profile:
    values: dict[str, object] = {
        "active_hours_per_day": 2.0,
        "acu_when_active": 1.0,
        "storage_gb": 20.0,
        # The hand arithmetic below is the micro's; like-for-like sizing has its own tests.
        "instance_class": "db.t4g.micro",
    }
    values.update(kw)
    return Profile(**values)  # type: ignore[arg-type]


def cost(option: str, prices: RegionPricing, **kw: object) -> float:
    return estimate(option, base(**kw), prices).monthly_usd


# RDS ---------------------------------------------------------------------------------------


def test_rds_single_az_micro_20gb(prices: RegionPricing) -> None:
    est = estimate("rds-single-az", base(), prices)
    assert est.breakdown.compute == pytest.approx(730 * 0.016)  # 11.68
    assert est.breakdown.storage == pytest.approx(20 * 0.115)  # 2.30
    assert est.breakdown.io == 0
    assert est.monthly_usd == pytest.approx(13.98)


def test_rds_multi_az_doubles_instance_and_storage(prices: RegionPricing) -> None:
    est = estimate("rds-multi-az", base(), prices)
    assert est.breakdown.compute == pytest.approx(730 * 0.032)  # 23.36
    assert est.breakdown.storage == pytest.approx(20 * 0.23)  # 4.60
    assert est.monthly_usd == pytest.approx(27.96)


@pytest.mark.parametrize("hours", [0.0, 2.0, 24.0])
def test_rds_does_not_depend_on_usage(prices: RegionPricing, hours: float) -> None:
    assert cost("rds-single-az", prices, active_hours_per_day=hours) == pytest.approx(13.98)


def test_rds_storage_zero_still_bills_the_20gb_minimum(prices: RegionPricing) -> None:
    est = estimate("rds-single-az", base(storage_gb=0.0), prices)
    assert est.breakdown.storage == pytest.approx(2.30)
    assert est.assumptions["billed_storage_gb"] == 20.0
    assert cost("rds-single-az", prices, storage_gb=100.0) == pytest.approx(11.68 + 11.50)


def test_rds_other_classes_and_month_length(prices: RegionPricing) -> None:
    assert cost("rds-single-az", prices, instance_class="db.t4g.small") == pytest.approx(
        730 * 0.032 + 2.30
    )
    assert cost("rds-multi-az", prices, instance_class="db.t3.micro") == pytest.approx(
        730 * 0.036 + 4.60
    )
    assert cost("rds-single-az", prices, hours_per_month=720.0) == pytest.approx(11.52 + 2.30)


def test_backup_beyond_the_free_share(prices: RegionPricing) -> None:
    assert estimate("rds-single-az", base(backup_gb=10.0), prices).breakdown.backup == (
        pytest.approx(0.95)
    )
    assert estimate("aurora-sv2-floor", base(backup_gb=10.0), prices).breakdown.backup == (
        pytest.approx(0.21)
    )


# Aurora with a 0.5 ACU floor -------------------------------------------------------------


def test_floor_2h(prices: RegionPricing) -> None:
    est = estimate("aurora-sv2-floor", base(), prices)
    # 2 h at 1 ACU + 22 h at 0.5 ACU = 13 ACU-h a day
    assert est.assumptions["acu_hours_per_month"] == pytest.approx(13 * D)
    assert est.breakdown.compute == pytest.approx(13 * D * 0.12)  # 47.45
    assert est.breakdown.storage == pytest.approx(2.00)
    assert est.monthly_usd == pytest.approx(49.45)


def test_floor_at_0_and_24_hours(prices: RegionPricing) -> None:
    # 0 h: 24 h at 0.5 ACU = 365 ACU-h = $43.80, more than a db.t4g.micro all month
    assert cost("aurora-sv2-floor", prices, active_hours_per_day=0.0) == pytest.approx(45.80)
    # 24 h at 1 ACU = 730 ACU-h = $87.60
    assert cost("aurora-sv2-floor", prices, active_hours_per_day=24.0) == pytest.approx(89.60)


def test_floor_idle_acu_above_the_floor(prices: RegionPricing) -> None:
    higher = cost("aurora-sv2-floor", prices, acu_when_active=2.0, idle_acu=1.0)
    assert higher == pytest.approx((2 * 2 + 22 * 1.0) * D * 0.12 + 2.00)


# Aurora scaling to zero ------------------------------------------------------------------


def test_scale_to_zero_2h_one_session(prices: RegionPricing) -> None:
    est = estimate("aurora-sv2-scale-to-zero", base(), prices)
    # 2 h at 1 ACU + one 300 s tail at 0.5 ACU = 2 + 1/24 ACU-h a day
    acu_h = (2 + 300 / 3600 * 0.5) * D
    assert est.assumptions["acu_hours_per_month"] == pytest.approx(acu_h)  # 62.1007
    assert est.breakdown.compute == pytest.approx(acu_h * 0.12)  # 7.4521
    assert est.monthly_usd == pytest.approx(7.452083 + 2.00, abs=1e-6)
    assert est.assumptions["paused_hours_per_day"] == pytest.approx(24 - 2 - 1 / 12)


def test_scale_to_zero_0_hours_is_never_woken(prices: RegionPricing) -> None:
    est = estimate("aurora-sv2-scale-to-zero", base(active_hours_per_day=0.0), prices)
    assert est.breakdown.compute == 0.0
    assert est.monthly_usd == pytest.approx(2.00)  # storage only
    assert awake_hours_per_day(base(active_hours_per_day=0.0, sessions_per_day=5)) == (0.0, 0.0)


def test_scale_to_zero_24_hours_never_pauses(prices: RegionPricing) -> None:
    est = estimate("aurora-sv2-scale-to-zero", base(active_hours_per_day=24.0), prices)
    assert est.breakdown.compute == pytest.approx(730 * 0.12)  # 87.60
    assert est.assumptions["paused_hours_per_day"] == 0.0
    assert est.monthly_usd == pytest.approx(
        cost("aurora-sv2-floor", prices, active_hours_per_day=24.0)
    )


def test_pause_delay_longer_than_the_idle_gap_never_pauses(prices: RegionPricing) -> None:
    # 22 active h in one session: the gap is 2 h, the pause delay 3 h, so it never pauses:
    # 22 h at 1 ACU + 2 h at 0.5 ACU = 23 ACU-h a day, exactly the 0.5 ACU floor.
    p = base(active_hours_per_day=22.0, pause_delay_seconds=3 * 3600)
    assert awake_hours_per_day(p) == (22.0, pytest.approx(2.0))
    s2z = estimate("aurora-sv2-scale-to-zero", p, prices)
    assert s2z.breakdown.compute == pytest.approx(23 * D * 0.12)  # 83.95
    assert s2z.monthly_usd == pytest.approx(estimate("aurora-sv2-floor", p, prices).monthly_usd)


def test_several_sessions_each_pay_the_pause_delay(prices: RegionPricing) -> None:
    # 4 h in 3 sessions, 600 s delay: gaps of 20/3 h > 1/6 h, so 3 tails of 1/6 h = 0.5 h
    p = base(active_hours_per_day=4.0, sessions_per_day=3, pause_delay_seconds=600)
    assert awake_hours_per_day(p) == (4.0, pytest.approx(0.5))
    est = estimate("aurora-sv2-scale-to-zero", p, prices)
    assert est.breakdown.compute == pytest.approx((4 * 1 + 0.5 * 0.5) * D * 0.12)  # 15.5125
    assert est.breakdown.compute == pytest.approx(15.5125)


def test_many_short_gaps_shorter_than_the_delay(prices: RegionPricing) -> None:
    # 20 h in 8 sessions: 8 gaps of 0.5 h, delay 1 h: awake all day
    p = base(active_hours_per_day=20.0, sessions_per_day=8, pause_delay_seconds=3600)
    assert awake_hours_per_day(p) == (20.0, pytest.approx(4.0))
    # 12 sessions with a 300 s delay: gaps of 1/3 h > 1/12 h: 12 tails of 5 min = 1 h
    q = base(active_hours_per_day=20.0, sessions_per_day=12)
    assert awake_hours_per_day(q) == (20.0, pytest.approx(1.0))


def test_storage_zero_on_aurora(prices: RegionPricing) -> None:
    est = estimate("aurora-sv2-scale-to-zero", base(storage_gb=0.0), prices)
    assert est.breakdown.storage == 0.0


def test_io_on_standard_and_io_optimized(prices: RegionPricing) -> None:
    std = estimate("aurora-sv2-scale-to-zero", base(io_millions_per_month=5.0), prices)
    assert std.breakdown.io == pytest.approx(1.00)
    assert estimate("rds-single-az", base(io_millions_per_month=5.0), prices).breakdown.io == 0
    opt = estimate(
        "aurora-sv2-scale-to-zero",
        base(io_millions_per_month=5.0, aurora_config=AuroraConfig.IO_OPTIMIZED),
        prices,
    )
    assert opt.breakdown.io == 0.0
    assert opt.breakdown.storage == pytest.approx(20 * 0.225)
    assert opt.breakdown.compute == pytest.approx((2 + 1 / 24) * D * 0.16)


def test_cheapest(prices: RegionPricing) -> None:
    assert cheapest(estimate_all(base(), prices)) == "aurora-sv2-scale-to-zero"
    assert cheapest(estimate_all(base(active_hours_per_day=12.0), prices)) == "rds-single-az"


def test_unknown_option(prices: RegionPricing) -> None:
    with pytest.raises(InvalidInputError, match="unknown option"):
        estimate("aurora-v1", base(), prices)


# Validation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"active_hours_per_day": -1.0}, "--active-hours-per-day"),
        ({"active_hours_per_day": 24.5}, "--active-hours-per-day"),
        ({"active_hours_per_day": float("nan")}, "--active-hours-per-day"),
        ({"acu_when_active": 0.25}, "--acu-when-active"),
        ({"acu_when_active": 300.0}, "--acu-when-active"),
        ({"idle_acu": 0.0}, "--idle-acu"),
        ({"idle_acu": 2.0}, "--idle-acu"),
        ({"storage_gb": -5.0}, "--storage-gb"),
        ({"io_millions_per_month": -1.0}, "--io-millions-per-month"),
        ({"backup_gb": -1.0}, "--backup-gb"),
        ({"sessions_per_day": 0}, "--sessions-per-day"),
        ({"pause_delay_seconds": 60}, "--pause-delay-seconds"),
        ({"pause_delay_seconds": 100_000}, "--pause-delay-seconds"),
        ({"hours_per_month": 0}, "--hours-per-month"),
        ({"hours_per_month": 800}, "--hours-per-month"),
        ({"instance_class": ""}, "--instance-class"),
    ],
)
def test_bad_profile_names_the_field(kw: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError) as ei:
        base(**kw)
    assert ei.value.field == field
    assert ei.value.message.startswith(f"{field}: must ")


def test_bad_profile_message_says_the_range() -> None:
    with pytest.raises(InvalidInputError, match=r"at least 0 and at most 24, got 25"):
        base(active_hours_per_day=25.0)


# Break-even ------------------------------------------------------------------------------


def test_break_even_rds_single_vs_scale_to_zero(prices: RegionPricing) -> None:
    # 13.98 = 2.00 + 0.12 * D * (H + 1/24)  =>  H = 11.98 / 3.65 - 1/24 = 3.240525...
    be = break_even("rds-single-az", "aurora-sv2-scale-to-zero", base(), prices)
    assert be.crossings == (pytest.approx(11.98 / 3.65 - 1 / 24, abs=1e-6),)
    assert be.describe() == "3.24 h/day"


def test_break_even_rds_multi_vs_scale_to_zero(prices: RegionPricing) -> None:
    be = break_even("rds-multi-az", "aurora-sv2-scale-to-zero", base(), prices)
    assert be.crossings == (pytest.approx(25.96 / 3.65 - 1 / 24, abs=1e-6),)  # 7.0707


def test_break_even_floor_vs_bigger_instance(prices: RegionPricing) -> None:
    # db.t4g.medium: 0.065 * 730 + 2.30 = 49.75; floor: 2 + 3.65 * (12 + 0.5 H) = 45.8 + 1.825 H
    p = base(instance_class="db.t4g.medium")
    be = break_even("rds-single-az", "aurora-sv2-floor", p, prices)
    assert be.crossings == (pytest.approx(3.95 / 1.825, abs=1e-6),)  # 2.1644
    fa = monthly_cost_curve("rds-single-az", p, prices)
    fb = monthly_cost_curve("aurora-sv2-floor", p, prices)
    assert fa(be.crossings[0]) == pytest.approx(fb(be.crossings[0]), abs=1e-6)


def test_no_break_even_says_which_is_never_dearer(prices: RegionPricing) -> None:
    be = break_even("rds-single-az", "aurora-sv2-floor", base(), prices)
    assert be.crossings == ()
    assert be.cheaper == "rds-single-az"
    assert be.describe() == "none in 0-24h (rds-single-az is never dearer)"
    # they coincide from 24 - 300 s upward but the floor is never cheaper
    be = break_even("aurora-sv2-floor", "aurora-sv2-scale-to-zero", base(), prices)
    assert be.crossings == ()
    assert be.cheaper == "aurora-sv2-scale-to-zero"


def test_same_cost_throughout(prices: RegionPricing) -> None:
    be = break_even("rds-single-az", "rds-single-az", base(), prices)
    assert be.crossings == ()
    assert be.cheaper is None
    assert "same cost throughout" in be.describe()


def test_break_evens_covers_each_pair_once(prices: RegionPricing) -> None:
    pairs = {(be.option_a, be.option_b) for be in break_evens(base(), prices)}
    assert len(pairs) == 6


# Properties ------------------------------------------------------------------------------


@st.composite
def profiles(draw: st.DrawFn) -> Profile:
    acu = draw(st.floats(0.5, 16))
    return Profile(
        active_hours_per_day=draw(st.floats(0, 24)),
        acu_when_active=acu,
        storage_gb=draw(st.floats(0, 1000)),
        io_millions_per_month=draw(st.floats(0, 100)),
        sessions_per_day=float(draw(st.integers(1, 48))),
        pause_delay_seconds=draw(st.floats(300, 86_400)),
        idle_acu=draw(st.floats(0.5, acu)),
    )


@settings(max_examples=200, deadline=None)
@given(profiles())
def test_scale_to_zero_never_dearer_than_the_floor(p: Profile) -> None:
    from rms.cost.pricing import load_builtin_pricing

    r = load_builtin_pricing().region("us-east-1")
    s2z = estimate("aurora-sv2-scale-to-zero", p, r).monthly_usd
    floor = estimate("aurora-sv2-floor", p, r).monthly_usd
    assert 0 <= s2z <= floor + 1e-9
    active, idle = awake_hours_per_day(p)
    assert 0 <= active + idle <= 24 + 1e-9


@settings(max_examples=100, deadline=None)
@given(profiles(), st.floats(0, 24), st.floats(0, 24))
def test_scale_to_zero_grows_with_usage(p: Profile, h1: float, h2: float) -> None:
    from rms.cost.pricing import load_builtin_pricing

    r = load_builtin_pricing().region("us-east-1")
    lo, hi = sorted((h1, h2))
    c_lo = estimate("aurora-sv2-scale-to-zero", replace(p, active_hours_per_day=lo), r)
    c_hi = estimate("aurora-sv2-scale-to-zero", replace(p, active_hours_per_day=hi), r)
    if lo > 0:
        assert c_lo.monthly_usd <= c_hi.monthly_usd + 1e-9


# Like for like: the RDS class carries the Aurora load ------------------------------------


@pytest.mark.parametrize(
    ("acu", "expected"),
    [
        (0.5, "db.t4g.micro"),  # 1 GiB
        (1.0, "db.t4g.small"),  # 2 GiB
        (2.0, "db.t4g.medium"),  # 4 GiB
        (4.0, "db.t4g.large"),  # 8 GiB
        (8.0, "db.r6g.large"),  # 16 GiB
        (200.0, "db.r6g.16xlarge"),  # 400 GiB: the 384 GiB 12xlarge is too small
        (256.0, "db.r6g.16xlarge"),  # 512 GiB
    ],
)
def test_auto_class_holds_the_acu_load(prices: RegionPricing, acu: float, expected: str) -> None:
    est = estimate("rds-single-az", base(acu_when_active=acu, instance_class="auto"), prices)
    assert est.assumptions["instance_class"] == expected
    assert est.assumptions["instance_chosen_by"] == "the load"
    assert float(est.assumptions["instance_memory_gib"]) >= 2 * acu


def test_the_default_class_is_matched_to_the_load(prices: RegionPricing) -> None:
    p = Profile(active_hours_per_day=24, acu_when_active=256, storage_gb=20)
    estimates = estimate_all(p, prices)
    by = {e.option: e for e in estimates}
    # 256 ACU all day: 256 x 0.12 x 730 = 22,425.60 + 2.00 storage
    assert by["aurora-sv2-scale-to-zero"].monthly_usd == pytest.approx(22_427.60)
    # against a 512 GiB db.r6g.16xlarge: 7.194 x 730 + 20 x 0.115, not a 1 GiB micro
    assert by["rds-single-az"].assumptions["instance_class"] == "db.r6g.16xlarge"
    assert by["rds-single-az"].monthly_usd == pytest.approx(7.194 * 730 + 2.30)
    assert by["rds-multi-az"].monthly_usd == pytest.approx(14.388 * 730 + 4.60)
    assert cheapest(estimates) == "rds-single-az"


def test_comparison_refused_past_the_largest_class(prices: RegionPricing) -> None:
    small = replace(prices, rds_instances={"db.t4g.micro": prices.rds_instances["db.t4g.micro"]})
    with pytest.raises(InvalidInputError, match="--acu-when-active") as info:
        estimate("rds-single-az", base(acu_when_active=1.0, instance_class="auto"), small)
    assert "largest RDS class priced" in str(info.value)
    assert "db.t4g.micro, 1 GiB" in str(info.value)
    assert "--instance-class" in str(info.value)
    # A named class is still priced as asked.
    named = estimate("rds-single-az", base(acu_when_active=1.0), small)
    assert named.assumptions["instance_chosen_by"] == "name"
