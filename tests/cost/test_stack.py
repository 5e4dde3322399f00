"""The whole-stack cost model (``rms cost estimate --stack``), checked against hand arithmetic.

Every expected figure below is worked out from the built-in us-east-1 prices in the comment
next to it; none is read back from the code under test.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from rms.cost.model import Profile
from rms.cost.pricing import RegionPricing, load_pricing, parse_pricing
from rms.cost.report import build_stack_report
from rms.cost.stack import (
    APP_TIERS,
    CHOSEN,
    IDLE_TARGET_USD,
    STACK_DATABASES,
    StackProfile,
    estimate_stack,
    estimate_stack_all,
    estimate_years,
)
from rms.errors import ConfigError, InvalidInputError
from tests.rms_cli import CliResult, run_rms

PROFILE = Profile(
    active_hours_per_day=2, acu_when_active=1, storage_gb=20, instance_class="db.t4g.micro"
)
CLI_PROFILE = [
    "--active-hours-per-day", "2", "--acu-when-active", "1", "--storage-gb", "20",
    "--instance-class", "db.t4g.micro",
]  # fmt: skip
# 1 secret x 0.40 + (14 alarms - 10 free) x 0.10; AWS-managed keys and 1 budget (2 free): 0
FIXED = 0.40 + 0.40
# Enhanced Monitoring of an always-on instance: 730 h x 90 KB, kept 12 months at 0.03 $/GB-month
RDS_EM_STORAGE = 730 * 90 / 1024**2 * 12 * 0.03


#: The AWS-managed-key design (infra/'s customer_managed_key = false, its default): the figures
#: of issue 30's target, and the default profile's.
AWS_KEYS = StackProfile(kms_keys=0)


def items_by_name(est: Any) -> dict[str, float]:
    return {i.name: i.usd for i in est.items}


def test_chosen_design_idle_with_20_gb_is_at_most_3_dollars(prices: RegionPricing) -> None:
    idle = estimate_stack(*CHOSEN, "idle", PROFILE, prices, AWS_KEYS)
    # Aurora paused all month: no compute; 20 GB x 0.10 storage; secret, 4 billed alarms.
    assert idle.monthly_usd == pytest.approx(20 * 0.10 + FIXED)  # 2.80
    assert idle.monthly_usd <= 3.0
    nonzero = {name for name, usd in items_by_name(idle).items() if usd > 0}
    assert nonzero == {
        "Aurora storage",
        "Secrets Manager secret (master password)",
        "CloudWatch alarms",
    }
    assert idle.chosen


def test_chosen_design_active(prices: RegionPricing) -> None:
    active = estimate_stack(*CHOSEN, "active", PROFILE, prices, AWS_KEYS)
    by = items_by_name(active)
    # 2 h/day x 730/24 days x 300 requests = 18,250 requests at 1 $/million on the HTTP API
    assert by["API Gateway HTTP API requests"] == pytest.approx(18_250 / 1e6 * 1.00)
    # Lambda: 18,250 requests and 18,250 x 0.15 s x 0.5 GB = 1,369 GB-s, inside the free tier
    assert by["Lambda requests"] == 0
    assert by["Lambda compute (arm64, 512 MB)"] == 0
    # Aurora: (2 x 1 + 300/3600 x 0.5) x 730/24 = 62.1007 ACU-h x 0.12
    assert by["Aurora Serverless v2 compute"] == pytest.approx(62.100694 * 0.12, abs=1e-5)
    # Logs: 18,250 x 1 KB + (2 + 1/12) h x 730/24 x 90 KB, kept 12 months at 0.03
    awake_h = (2 + 300 / 3600) * 730 / 24
    log_gb = (18_250 * 1 + awake_h * 90) / 1024**2
    assert by["CloudWatch Logs storage (12 months kept)"] == pytest.approx(log_gb * 12 * 0.03)
    assert by["CloudWatch Logs ingestion (service, API, Enhanced Monitoring)"] == 0  # < 5 GB
    expected = 2.00 + FIXED + 62.100694 * 0.12 + 0.01825 + log_gb * 12 * 0.03
    assert active.monthly_usd == pytest.approx(expected, abs=1e-5)  # 10.28


def test_rds_costs_the_same_idle_or_not(prices: RegionPricing) -> None:
    idle = estimate_stack("lambda-http-api", "rds-single-az", "idle", PROFILE, prices, AWS_KEYS)
    # 730 h x 0.016 + 20 GB x 0.115 + fixed + a year of Enhanced Monitoring logs
    assert idle.monthly_usd == pytest.approx(11.68 + 2.30 + FIXED + RDS_EM_STORAGE)  # 15.80


@pytest.mark.parametrize(
    ("tier", "extra_idle"),
    [
        ("lambda-http-api", 0.0),
        ("lambda-function-url", 0.0),
        # NAT gateway 730 h x 0.045 + its public IPv4 730 h x 0.005
        ("lambda-http-api-nat", 730 * 0.045 + 730 * 0.005),
        # SSM interface endpoint in 2 zones: 2 x 730 h x 0.01
        ("lambda-http-api-ssm-endpoints", 2 * 730 * 0.01),
        # Fargate 0.25 vCPU x 0.03238 + 0.5 GB x 0.00356 per hour, ALB 0.0225/h, 3 public IPv4
        ("fargate-alb", 730 * (0.25 * 0.03238 + 0.5 * 0.00356) + 730 * 0.0225 + 3 * 730 * 0.005),
    ],
)
def test_idle_cost_of_each_app_tier(prices: RegionPricing, tier: str, extra_idle: float) -> None:
    idle = estimate_stack(tier, "aurora-sv2-scale-to-zero", "idle", PROFILE, prices, AWS_KEYS)
    assert idle.monthly_usd == pytest.approx(2.00 + FIXED + extra_idle)


def test_function_url_saves_only_the_http_api_requests(prices: RegionPricing) -> None:
    api = estimate_stack("lambda-http-api", CHOSEN[1], "active", PROFILE, prices)
    url = estimate_stack("lambda-function-url", CHOSEN[1], "active", PROFILE, prices)
    assert api.monthly_usd - url.monthly_usd == pytest.approx(18_250 / 1e6)


def test_free_allowances_are_subtracted_before_pricing(prices: RegionPricing) -> None:
    heavy = Profile(active_hours_per_day=24, acu_when_active=1, storage_gb=20)
    sp = StackProfile(requests_per_active_hour=100_000)
    by = items_by_name(estimate_stack(*CHOSEN, "active", heavy, prices, sp))
    # 730 h x 100,000 = 73 M requests: (73 M - 1 M free) x 0.20 $/M
    assert by["Lambda requests"] == pytest.approx(72 * 0.20)
    # 73 M x 0.15 s x 0.5 GB = 5.475 M GB-s, minus 400,000 free, x 0.0000133334 (arm64)
    assert by["Lambda compute (arm64, 512 MB)"] == pytest.approx(5_075_000 * 0.0000133334)
    # 73 M x 20 KB = 1,392 GB out, 100 GB free, at 0.09
    out_gb = 73_000_000 * 20 / 1024**2
    assert by["Data transfer out to the internet"] == pytest.approx((out_gb - 100) * 0.09)


def test_arm64_is_the_default_and_20_percent_cheaper_than_x86(prices: RegionPricing) -> None:
    heavy = Profile(active_hours_per_day=24, acu_when_active=1, storage_gb=20)
    arm = StackProfile(requests_per_active_hour=100_000)  # the default: what infra deploys
    x86 = StackProfile(requests_per_active_hour=100_000, lambda_architecture="x86_64")
    a = items_by_name(estimate_stack(*CHOSEN, "active", heavy, prices, arm))
    x = items_by_name(estimate_stack(*CHOSEN, "active", heavy, prices, x86))
    assert x["Lambda compute (x86_64, 512 MB)"] == pytest.approx(5_075_000 * 0.0000166667)
    assert a["Lambda compute (arm64, 512 MB)"] == pytest.approx(
        0.8 * x["Lambda compute (x86_64, 512 MB)"], rel=1e-4
    )


def test_the_runtime_is_checked_with_the_architecture() -> None:
    assert StackProfile(lambda_architecture="x86_64", lambda_runtime="python3.11")
    with pytest.raises(InvalidInputError, match=r"arm64 needs python3\.12"):
        StackProfile(lambda_runtime="python3.11")
    with pytest.raises(InvalidInputError, match="--lambda-runtime"):
        StackProfile(lambda_runtime="python3.10")
    with pytest.raises(InvalidInputError, match="--lambda-architecture"):
        StackProfile(lambda_architecture="ppc64le")


def test_all_combinations(prices: RegionPricing) -> None:
    estimates = estimate_stack_all(PROFILE, prices)
    assert len(estimates) == len(APP_TIERS) * len(STACK_DATABASES) * 2
    idle = [e for e in estimates if e.scenario == "idle"]
    cheapest = min(idle, key=lambda e: (round(e.monthly_usd, 2), APP_TIERS.index(e.app_tier)))
    assert (cheapest.app_tier, cheapest.database) == CHOSEN


def test_bad_inputs_name_the_field(prices: RegionPricing) -> None:
    with pytest.raises(InvalidInputError, match="--requests-per-active-hour: must be a finite"):
        StackProfile(requests_per_active_hour=-1)
    with pytest.raises(InvalidInputError, match="--lambda-architecture"):
        StackProfile(lambda_architecture="sparc")
    with pytest.raises(InvalidInputError, match="--lambda-memory-mb"):
        StackProfile(lambda_memory_mb=64)
    with pytest.raises(InvalidInputError, match="--app-tier: unknown app tier 'ec2'"):
        estimate_stack("ec2", CHOSEN[1], "idle", PROFILE, prices)
    with pytest.raises(InvalidInputError, match="database: unknown database"):
        estimate_stack(CHOSEN[0], "dynamodb", "idle", PROFILE, prices)


def test_stack_prices_have_sources_and_are_validated(pricing_document: dict[str, Any]) -> None:
    stack = parse_pricing(pricing_document).region("us-east-1").stack_pricing()
    assert all(p.source.strip() and p.as_of for p in stack.prices.values())
    assert stack.allowance("cloudwatch_alarms") == 10
    del pricing_document["regions"]["us-east-1"]["stack"]["prices"]["kms_key_month"]
    with pytest.raises(ConfigError, match=r"regions\.us-east-1\.stack\.prices\.kms_key_month"):
        parse_pricing(pricing_document)


def test_stack_allowance_validation(pricing_document: dict[str, Any]) -> None:
    free = pricing_document["regions"]["us-east-1"]["stack"]["free"]
    free["logs_gb"]["quantity"] = -5
    with pytest.raises(ConfigError, match=r"stack\.free\.logs_gb\.quantity: must be a number"):
        parse_pricing(pricing_document)
    free["logs_gb"]["quantity"] = 5
    free["typo_gb"] = free["logs_gb"]
    with pytest.raises(ConfigError, match=r"stack\.free\.typo_gb: unknown key"):
        parse_pricing(pricing_document)


def run(*args: str) -> CliResult:
    return run_rms("cost", *args)


def test_cli_stack_table_prints_the_idle_verdict() -> None:
    # By default the stack infra/ deploys by default: AWS-managed keys, within the target.
    result = run("estimate", *CLI_PROFILE, "--stack")
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    verdict = (
        "Whole stack idle (lambda-http-api + aurora-sv2-scale-to-zero, 20 GB): year 1 $2.80, "
        "year 2 $2.80, year 3 $2.80 a month, at most the $3 target in each of the first 3 years"
    )
    assert verdict in out
    assert "fargate-alb" in out and "37.38" in out
    assert "Chosen design year by year" in out
    assert "keys: AWS-managed (infra/'s default)" in out
    # --aws-managed-keys: the deprecated spelling of the default, still accepted.
    result = run("estimate", *CLI_PROFILE, "--stack", "--aws-managed-keys")
    assert result.exit_code == 0, result.output
    assert verdict in " ".join(result.stdout.split())
    # infra/'s customer_managed_key = true: the key and its rotations break the target.
    result = run("estimate", *CLI_PROFILE, "--stack", "--customer-managed-key")
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert (
        "Whole stack idle (lambda-http-api + aurora-sv2-scale-to-zero, 20 GB): year 1 $3.80, "
        "year 2 $4.80, year 3 $5.80 a month, OVER the $3 target in the first 3 years"
    ) in out
    assert "keys: 1 customer managed (--customer-managed-key)" in out


def test_cli_stack_json() -> None:
    result = run("estimate", *CLI_PROFILE, "--stack", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["databases"][0]["option"] == "rds-single-az"
    stack = doc["stack"]
    assert stack["chosen_idle_monthly_usd"] == 2.8 and stack["chosen_idle_meets_target"] is True
    assert stack["customer_managed_keys"] == 0
    assert [y["idle_total_usd"] for y in stack["chosen_years"]] == [33.6, 33.6, 33.6]
    chosen = next(c for c in stack["combinations"] if c["chosen"])
    assert chosen["active_monthly_usd"] == pytest.approx(10.2786, abs=1e-4)
    keys = {i["price_key"] for i in chosen["idle_items"]}
    assert {
        "kms_key_month",
        "kms_key_rotation_month",
        "budget_day",
        "secrets_manager_secret_month",
        "cloudwatch_alarm_month",
    } <= keys


def test_cli_stack_prices_the_architecture_asked_for() -> None:
    def compute_key(*extra: str) -> set[str]:
        result = run("estimate", *CLI_PROFILE, "--stack", "--format", "json", *extra)
        assert result.exit_code == 0, result.output
        chosen = next(c for c in json.loads(result.stdout)["stack"]["combinations"] if c["chosen"])
        return {i["price_key"] for i in chosen["active_items"] if "gb_second" in i["price_key"]}

    assert compute_key() == {"lambda_gb_second_arm64"}
    assert compute_key("--lambda-architecture", "x86_64") == {"lambda_gb_second_x86_64"}
    result = run("estimate", *CLI_PROFILE, "--stack", "--lambda-runtime", "python3.11")
    assert result.exit_code == 2 and "arm64 needs python3.12" in result.stderr
    x86_311 = ("--lambda-architecture", "x86_64", "--lambda-runtime", "python3.11")
    assert compute_key(*x86_311) == {"lambda_gb_second_x86_64"}


def test_cli_stack_errors_are_one_line() -> None:
    result = run("estimate", *CLI_PROFILE, "--stack", "--format", "csv")
    assert (
        result.exit_code == 2 and "error: --stack: not available with --format csv" in result.stderr
    )
    result = run("estimate", *CLI_PROFILE, "--stack", "--app-tier", "ec2")
    assert result.exit_code == 2 and "error: --app-tier: unknown app tier 'ec2'" in result.stderr
    result = run("estimate", *CLI_PROFILE, "--stack", "--requests-per-active-hour", "-3")
    assert result.exit_code == 2 and "--requests-per-active-hour" in result.stderr
    assert "Traceback" not in result.output


def test_cli_stack_needs_stack_prices(tmp_path: Path, pricing_document: dict[str, Any]) -> None:
    del pricing_document["regions"]["us-east-1"]["stack"]
    path = tmp_path / "db-only.json"
    path.write_text(json.dumps(pricing_document))
    assert load_pricing(path).region("us-east-1").stack is None
    result = run("estimate", *CLI_PROFILE, "--pricing", str(path), "--stack")
    assert result.exit_code == 2
    assert "error: --stack: the pricing table has no stack prices for us-east-1" in result.stderr
    # without --stack the same table still works
    assert run("estimate", *CLI_PROFILE, "--pricing", str(path)).exit_code == 0


# Every line item the stack creates, the years view and the 3 $ target (issue 30) ----------

CMK = StackProfile(kms_keys=1)


def test_aws_managed_keys_cost_nothing_a_month(prices: RegionPricing) -> None:
    for month in (0, 12, 24, 48):
        by = items_by_name(estimate_stack(*CHOSEN, "idle", PROFILE, prices, AWS_KEYS, month=month))
        assert by["KMS customer managed keys"] == 0
        assert by["KMS key rotations (retained key material)"] == 0


@pytest.mark.parametrize(
    ("month", "key_usd"),
    [
        (0, 1.00),  # the key alone
        (11, 1.00),  # month 12 starts at day 334.6: not rotated yet
        (12, 2.00),  # day 365: first rotation, +1 $
        (24, 3.00),  # day 730: second rotation, +1 $
        (36, 3.00),  # third rotation: free, the charge stays at 3 $
        (120, 3.00),
    ],
)
def test_customer_managed_key_is_priced_with_its_rotations(
    prices: RegionPricing, month: int, key_usd: float
) -> None:
    by = items_by_name(estimate_stack(*CHOSEN, "idle", PROFILE, prices, CMK, month=month))
    assert by["KMS customer managed keys"] + by[
        "KMS key rotations (retained key material)"
    ] == pytest.approx(key_usd)


def test_budgets_beyond_the_two_free_are_priced(prices: RegionPricing) -> None:
    by = items_by_name(estimate_stack(*CHOSEN, "idle", PROFILE, prices, AWS_KEYS))
    assert by["AWS Budgets (the monthly cost budget)"] == 0  # 1 budget, 2 free
    three = StackProfile(budgets=3)
    by = items_by_name(estimate_stack(*CHOSEN, "idle", PROFILE, prices, three))
    # one beyond the free two: 730/24 days x 0.02 $
    assert by["AWS Budgets (the monthly cost budget)"] == pytest.approx(730 / 24 * 0.02)


INIT = "Lambda INIT (cold starts, billed since 2025-08; 2.45 s each)"


def test_lambda_init_is_billed_per_cold_start(prices: RegionPricing) -> None:
    # Beyond the free GB-seconds: 3,000 requests an hour, 24 h, 4 sessions a day.
    heavy = replace(PROFILE, active_hours_per_day=24, sessions_per_day=4)
    sp = StackProfile(requests_per_active_hour=3_000, lambda_ms_per_request=1_000)
    est = estimate_stack(*CHOSEN, "active", heavy, prices, sp)
    item = next(i for i in est.items if i.name == INIT)
    cold_starts = 4 * 730 / 24
    init_gbs = cold_starts * 2.45 * 0.5  # 149.1 GB-s
    invoke_gbs = 3_000 * 730 * 1.0 * 0.5  # 1,095,000 GB-s: the free 400,000 are used up
    assert item.quantity == pytest.approx(init_gbs)
    assert item.usd == pytest.approx(init_gbs * 0.0000133334)  # arm64
    assert invoke_gbs > 400_000
    # Idle: no request, no cold start.
    idle = estimate_stack(*CHOSEN, "idle", heavy, prices, sp)
    assert next(i for i in idle.items if i.name == INIT).quantity == 0


def test_lambda_init_over_10_s_is_billed_twice(prices: RegionPricing) -> None:
    from rms.cost.stack import billed_init_seconds

    assert billed_init_seconds(6.16) == pytest.approx(6.16)
    assert billed_init_seconds(12.0) == pytest.approx(22.0)  # cut at 10 s, run again


def test_lambda_init_shares_the_free_gb_seconds(prices: RegionPricing) -> None:
    # The owner's profile: 30.4 cold starts x 2.45 s x 0.5 GB = 37 GB-s, inside the free tier.
    est = estimate_stack(*CHOSEN, "active", PROFILE, prices, AWS_KEYS)
    item = next(i for i in est.items if i.name == INIT)
    assert item.usd == 0
    assert "37 GB-s" in item.note


def test_years_view_shows_the_rotations(prices: RegionPricing) -> None:
    years = estimate_years(*CHOSEN, "idle", PROFILE, prices, CMK, years=4)
    # 2.80 without the key; + 1 $ in year 1, 2 $ in year 2, 3 $ from year 3 on
    assert [round(y.monthly_usd, 2) for y in years] == [3.80, 4.80, 5.80, 5.80]
    assert [round(y.total_usd, 2) for y in years] == [45.60, 57.60, 69.60, 69.60]
    default = estimate_years(*CHOSEN, "idle", PROFILE, prices, AWS_KEYS, years=3)
    assert [round(y.total_usd, 2) for y in default] == [33.60, 33.60, 33.60]
    with pytest.raises(InvalidInputError, match="--years"):
        estimate_years(*CHOSEN, "idle", PROFILE, prices, years=0)


def test_stack_idle_at_20_gb_meets_3_dollars_in_each_of_its_first_3_years_with_aws_keys(
    prices: RegionPricing,
) -> None:
    """The target of issue 30, on the model's output: met by the AWS-managed keys infra/ deploys
    by default (the default profile), not with the customer managed key option."""
    profile = Profile(active_hours_per_day=0, acu_when_active=0.5, storage_gb=20)
    assert StackProfile() == AWS_KEYS
    report = build_stack_report(profile, prices, "test")
    assert report.kms_keys == 0
    assert len(report.idle_years) == 3
    for year in report.idle_years:
        assert all(month <= 3.0 for month in year.months), year
    assert report.meets_target
    # The customer managed key option does not: 3.80 $ from the first month.
    cmk = build_stack_report(profile, prices, "test", CMK)
    assert not cmk.meets_target and cmk.kms_keys == 1
    assert [round(y.dearest_month_usd, 2) for y in cmk.idle_years] == [3.80, 4.80, 5.80]


def test_cli_years_and_customer_key() -> None:
    result = run(
        "estimate", *CLI_PROFILE, "--stack", "--customer-managed-key", "--years", "4",
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    stack = json.loads(result.stdout)["stack"]
    assert [y["idle_monthly_usd"] for y in stack["chosen_years"]] == [3.8, 4.8, 5.8, 5.8]
    assert stack["chosen_idle_meets_target"] is False and stack["customer_managed_keys"] == 1
    result = run("estimate", *CLI_PROFILE, "--stack", "--years", "0")
    assert result.exit_code == 2 and "error: --years: must be 1 to 10" in result.stderr


CACHE = "Lambda SnapStart cache (1 version x 0.5 GB, all month)"
RESTORES = "Lambda SnapStart restores (one per cold start)"


def test_snapstart_is_off_by_default_and_priced_on_request(prices: RegionPricing) -> None:
    names = {i.name for i in estimate_stack(*CHOSEN, "active", PROFILE, prices, AWS_KEYS).items}
    assert CACHE not in names and RESTORES not in names
    snap = replace(AWS_KEYS, snapstart=True)
    idle = items_by_name(estimate_stack(*CHOSEN, "idle", PROFILE, prices, snap))
    # The snapshot is cached all month, idle or not: 0.5 GB x 730 h x 3600 s x 0.0000015046
    assert idle[CACHE] == pytest.approx(0.5 * 730 * 3600 * 0.0000015046)
    assert idle[RESTORES] == 0
    active = estimate_stack(*CHOSEN, "active", PROFILE, prices, snap)
    by = items_by_name(active)
    # One restore per cold start (one a session: 730/24 a month) of 0.5 GB at 0.0001397998
    assert by[RESTORES] == pytest.approx(730 / 24 * 0.5 * 0.0001397998)
    init = next(i for i in active.items if i.name == INIT)
    # INIT runs once per published version (one deploy a month), not per cold start.
    assert init.quantity == 0 and "1 published version (SnapStart) x 2.45 s" in init.note


def test_snapstart_takes_the_idle_stack_over_the_target(prices: RegionPricing) -> None:
    snap = replace(AWS_KEYS, snapstart=True)
    idle = estimate_stack(*CHOSEN, "idle", PROFILE, prices, snap).monthly_usd
    assert idle == pytest.approx(2.80 + 0.5 * 730 * 3600 * 0.0000015046)  # 4.78
    assert idle > IDLE_TARGET_USD
    two = replace(snap, snapstart_versions=2, lambda_memory_mb=1024)
    by = items_by_name(estimate_stack(*CHOSEN, "idle", PROFILE, prices, two))
    assert by["Lambda SnapStart cache (2 version x 1 GB, all month)"] == pytest.approx(
        2 * 1 * 730 * 3600 * 0.0000015046
    )


def test_snapstart_needs_python312() -> None:
    with pytest.raises(InvalidInputError, match="--snapstart"):
        StackProfile(snapstart=True, lambda_architecture="x86_64", lambda_runtime="python3.11")
    assert StackProfile(snapstart=True, lambda_runtime="python3.12").snapstart


def test_cli_snapstart() -> None:
    result = run("estimate", *CLI_PROFILE, "--stack", "--format", "json", "--snapstart")
    assert result.exit_code == 0, result.output
    chosen = next(c for c in json.loads(result.stdout)["stack"]["combinations"] if c["chosen"])
    keys = {i["price_key"] for i in chosen["idle_items"]}
    assert {"lambda_snapstart_cache_gb_second", "lambda_snapstart_restore_gb"} <= keys
    result = run(
        "estimate",
        *CLI_PROFILE,
        "--stack",
        "--snapstart",
        "--lambda-architecture",
        "x86_64",
        "--lambda-runtime",
        "python3.11",
    )
    assert result.exit_code == 2 and "--snapstart" in result.stderr
