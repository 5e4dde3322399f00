"""Whole-stack cost: the app tier, the database and everything around them, idle and active.

The database figures come from :func:`rms.cost.model.estimate` (same profile, same prices);
this module adds what the rest of the deployment costs a month: the app tier (Lambda behind an
HTTP API or a function URL, the same with a NAT gateway or SSM interface endpoints, or an
always-on Fargate task behind an Application Load Balancer), Secrets Manager, KMS, CloudWatch
alarms, dashboards, custom metrics and logs, Cognito, and data transfer out. Every figure comes
from the pricing table's ``stack`` section with its source; always-free allowances that do not
expire (Lambda's 1M requests and 400,000 GB-seconds, CloudWatch's 10 alarms, 3 dashboards, 10
custom metrics and 5 GB of logs, Cognito's 10,000 monthly active users, 100 GB of data transfer
out) are subtracted before pricing, and each line says so. Twelve-month free tiers are not used.

Each combination is priced twice: **idle** (nobody uses RMS all month: no request, a paused
Aurora) and **active** (the :class:`~rms.cost.model.Profile`'s active hours, with
``requests_per_active_hour`` requests in each). Formulas: ``docs/cost-model.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from rms.cost.model import Profile, estimate
from rms.cost.pricing import RegionPricing, StackPricing
from rms.errors import InvalidInputError

__all__ = [
    "APP_TIERS",
    "APP_TIER_LABELS",
    "CHOSEN",
    "CUSTOMER_MANAGED_KMS_KEYS",
    "DEPLOYED_KMS_KEYS",
    "DEPLOYED_LAMBDA_ARCHITECTURE",
    "DEPLOYED_LAMBDA_RUNTIME",
    "DEPLOYED_SNAPSTART",
    "IDLE_TARGET_USD",
    "KMS_BILLED_ROTATIONS",
    "LAMBDA_ARCHITECTURES",
    "LAMBDA_INIT_MEASURED_S",
    "LAMBDA_RUNTIMES",
    "SCENARIOS",
    "STACK_DATABASES",
    "TARGET_YEARS",
    "LineItem",
    "StackEstimate",
    "StackProfile",
    "YearCost",
    "estimate_stack",
    "estimate_stack_all",
    "estimate_years",
]

#: The app-tier options, the chosen one first.
APP_TIERS: tuple[str, ...] = (
    "lambda-http-api",
    "lambda-function-url",
    "lambda-http-api-nat",
    "lambda-http-api-ssm-endpoints",
    "fargate-alb",
)
#: The databases priced with each app tier.
STACK_DATABASES: tuple[str, ...] = ("aurora-sv2-scale-to-zero", "rds-single-az")
SCENARIOS: tuple[str, ...] = ("idle", "active")
#: The design infra/ deploys (docs/architecture/aws-stack.md).
CHOSEN: tuple[str, str] = ("lambda-http-api", "aurora-sv2-scale-to-zero")
#: The goal of issue 30: the whole stack idle with 20 GB for at most this a month, in each of
#: its first :data:`TARGET_YEARS` years (issue 13's was under 4 $, in the first month).
IDLE_TARGET_USD = 3.0
TARGET_YEARS = 3
#: KMS bills the retained key material of the first two rotations of a customer managed key
#: (1 $/month each); later rotations add nothing (aws.amazon.com/kms/pricing, since 2024-04).
KMS_BILLED_ROTATIONS = 2
#: Customer managed keys the environments create by default: none (their
#: ``customer_managed_key`` variable defaults to false); one with ``customer_managed_key = true``.
#: infra/testing/consistency.py checks both numbers against infra/ (and StackProfile's default).
DEPLOYED_KMS_KEYS = 0
CUSTOMER_MANAGED_KMS_KEYS = 1
#: The function's architecture and runtime as infra/ deploys them by default (the service
#: module's ``architecture``/``runtime``, the environments' ``service_architecture``/
#: ``service_runtime``; ``make package`` builds for the same). infra/testing/consistency.py
#: checks both against the Terraform defaults (and StackProfile's defaults against these).
DEPLOYED_LAMBDA_ARCHITECTURE = "arm64"
DEPLOYED_LAMBDA_RUNTIME = "python3.13"
#: Lambda SnapStart as infra/ deploys it by default: off (the service module's ``snapstart``,
#: the environments' ``service_snapstart``); ``--snapstart`` prices it on.
DEPLOYED_SNAPSTART = False
#: What the service module accepts (its variables' validations).
LAMBDA_ARCHITECTURES: tuple[str, ...] = ("arm64", "x86_64")
LAMBDA_RUNTIMES: tuple[str, ...] = ("python3.11", "python3.12", "python3.13")
#: Lambda cuts an INIT phase at 10 s and runs it again inside the first invocation, billed.
LAMBDA_INIT_LIMIT_S = 10.0
#: The measured INIT (imports + building the app) of the handler, docs/lambda.md "Measured".
LAMBDA_INIT_MEASURED_S = 2.45

APP_TIER_LABELS: dict[str, str] = {
    "lambda-http-api": "Lambda + API Gateway HTTP API, IPv6 egress (chosen)",
    "lambda-function-url": "Lambda + function URL, IPv6 egress",
    "lambda-http-api-nat": "Lambda + HTTP API, NAT gateway for the sign-in issuer",
    "lambda-http-api-ssm-endpoints": "Lambda + HTTP API, SSM interface endpoints for settings",
    "fargate-alb": "Fargate task (always on) + Application Load Balancer",
}

_KB_PER_GB = 1024.0 * 1024.0
_HOURS_PER_MONTH_BILLED = 730.0  # AWS prices monthly items (keys, secrets) per 730 h


@dataclass(frozen=True)
class StackProfile:
    """What the rest of the stack sees of the owner's use, and how it is built.

    The defaults describe infra/environments/dev as it deploys by default: 14 alarms, the
    AWS-managed keys (``customer_managed_key = false``: aws/rds, aws/secretsmanager, aws/lambda,
    no customer key on the log groups or the alarm topic), one secret (the master password), one
    dashboard, one cost budget, the service's 5 custom metrics, one user. ``kms_keys=1`` prices
    the environments' ``customer_managed_key = true``: one customer managed key, shared by the
    database, the log groups and the alarm topic, rotated yearly (docs/cost-model.md).
    infra/testing/consistency.py checks these defaults against the Terraform ones.
    """

    requests_per_active_hour: float = 300.0
    #: Billed duration of an average request: bench/bench_lambda.py measures ~20 ms warm
    #: (connect included) on a full core and a 6-7 s cold start on a loaded one; 150 ms
    #: allows for 512 MB's third of a vCPU, TLS to Aurora and one cold start per session.
    lambda_ms_per_request: float = 150.0
    lambda_memory_mb: float = 512.0
    #: What infra/environments deploy by default: arm64 (Graviton, 20 % less per GB-second
    #: than x86_64) on python3.13 (Amazon Linux 2023). x86_64 stays selectable
    #: (``--lambda-architecture x86_64``), and is the only choice on python3.11, whose Amazon
    #: Linux 2 cannot load the locked psycopg-binary's aarch64 wheels (docs/lambda.md).
    lambda_architecture: str = DEPLOYED_LAMBDA_ARCHITECTURE
    lambda_runtime: str = DEPLOYED_LAMBDA_RUNTIME
    #: Lambda SnapStart (python3.12+): off, what infra/ deploys by default. On, each cold start
    #: restores a snapshot (billed per GB restored) instead of running INIT, INIT runs once
    #: per published version, and every cached version's snapshot is billed per GB-second for
    #: as long as it is kept: all month, idle or not (docs/cost-model.md).
    snapstart: bool = DEPLOYED_SNAPSTART
    #: Versions whose snapshot is cached: the live one; a deploy publishes a new version, and
    #: an older one keeps its snapshot until it goes 14 days without an invocation.
    snapstart_versions: int = 1
    #: Versions published (deploys) a month: each runs INIT once for its snapshot.
    snapstart_publishes_per_month: float = 1.0
    log_kb_per_request: float = 1.0
    log_retention_months: float = 12.0
    enhanced_monitoring_kb_per_awake_hour: float = 90.0
    kb_out_per_request: float = 20.0
    #: Billed INIT duration of a cold start (billed since 2025-08 for on-demand functions):
    #: imports and building the app from byte-code, 2.45 s measured by bench/bench_lambda.py
    #: after issue 30's import work (docs/lambda.md, "Measured"; the package ships the
    #: ``.pyc`` files, so Lambda does not compile at INIT). Over 10 s Lambda cuts the INIT and
    #: runs it again inside the invocation, so 10 s more are billed.
    lambda_init_seconds: float = LAMBDA_INIT_MEASURED_S
    #: Cold starts per active session: the first request of each session finds no environment.
    cold_starts_per_session: float = 1.0
    alarms: int = 14
    #: Customer managed keys: 0, what infra/ deploys by default (AWS-managed keys: aws/rds,
    #: aws/secretsmanager, aws/lambda cost nothing a month); 1 with the environments'
    #: ``customer_managed_key = true`` (one key for the whole stack). Kept equal to
    #: :data:`DEPLOYED_KMS_KEYS`.
    kms_keys: int = DEPLOYED_KMS_KEYS
    #: Automatic rotation period of a customer managed key (infra/ sets 365 days).
    kms_rotation_days: float = 365.0
    budgets: int = 1
    secrets: int = 1
    dashboards: int = 1
    custom_metrics: int = 5
    monthly_active_users: int = 1
    endpoint_azs: int = 2
    fargate_vcpu: float = 0.25
    fargate_gb: float = 0.5
    alb_lcu_when_active: float = 0.05
    fargate_public_ipv4: int = 3

    def __post_init__(self) -> None:
        for name in (
            "requests_per_active_hour",
            "lambda_ms_per_request",
            "log_kb_per_request",
            "log_retention_months",
            "enhanced_monitoring_kb_per_awake_hour",
            "kb_out_per_request",
            "lambda_init_seconds",
            "cold_starts_per_session",
            "alarms",
            "kms_keys",
            "budgets",
            "secrets",
            "dashboards",
            "custom_metrics",
            "monthly_active_users",
            "endpoint_azs",
            "fargate_vcpu",
            "fargate_gb",
            "alb_lcu_when_active",
            "fargate_public_ipv4",
            "snapstart_versions",
            "snapstart_publishes_per_month",
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise InvalidInputError(
                    f"{_opt(name)}: must be a number, got {value!r}", field=name
                )
            if math.isnan(value) or value < 0 or math.isinf(value):
                raise InvalidInputError(
                    f"{_opt(name)}: must be a finite number >= 0, got {value:g}", field=name
                )
        if not 128 <= self.lambda_memory_mb <= 10240:
            raise InvalidInputError(
                f"--lambda-memory-mb: must be 128 to 10240, got {self.lambda_memory_mb:g}",
                field="lambda_memory_mb",
            )
        if not 90 <= self.kms_rotation_days <= 2560:
            raise InvalidInputError(
                f"--kms-rotation-days: must be 90 to 2560 (KMS's limits), "
                f"got {self.kms_rotation_days:g}",
                field="kms_rotation_days",
            )
        if self.lambda_architecture not in LAMBDA_ARCHITECTURES:
            raise InvalidInputError(
                f"--lambda-architecture: must be arm64 or x86_64, got {self.lambda_architecture!r}",
                field="lambda_architecture",
            )
        if self.lambda_runtime not in LAMBDA_RUNTIMES:
            raise InvalidInputError(
                f"--lambda-runtime: must be one of {', '.join(LAMBDA_RUNTIMES)}, "
                f"got {self.lambda_runtime!r}",
                field="lambda_runtime",
            )
        if self.snapstart and self.lambda_runtime == "python3.11":
            raise InvalidInputError(
                "--snapstart: Lambda SnapStart for Python needs python3.12 or later "
                f"(--lambda-runtime {self.lambda_runtime})",
                field="snapstart",
            )
        if self.lambda_architecture == "arm64" and self.lambda_runtime == "python3.11":
            raise InvalidInputError(
                "--lambda-architecture: arm64 needs python3.12 or later (python3.11's Amazon "
                "Linux 2 cannot load the locked psycopg-binary's aarch64 wheels); use x86_64",
                field="lambda_architecture",
            )


def _opt(name: str) -> str:
    return "--" + name.replace("_", "-")


@dataclass(frozen=True)
class LineItem:
    """One billed thing: what, how much of it (after any free allowance), at what price."""

    category: str
    name: str
    quantity: float
    unit: str
    unit_usd: float
    price_key: str
    note: str = ""

    @property
    def usd(self) -> float:
        return self.quantity * self.unit_usd


@dataclass(frozen=True)
class StackEstimate:
    """The monthly cost of one app tier with one database in one scenario, line by line."""

    app_tier: str
    database: str
    scenario: str
    items: list[LineItem] = field(default_factory=list)

    @property
    def monthly_usd(self) -> float:
        return sum(item.usd for item in self.items)

    @property
    def chosen(self) -> bool:
        return (self.app_tier, self.database) == CHOSEN


def _billable(used: float, free: float) -> float:
    return max(0.0, used - free)


def _database_items(database: str, profile: Profile, region: RegionPricing) -> list[LineItem]:
    est = estimate(database, profile, region)
    b, a = est.breakdown, est.assumptions
    if database.startswith("aurora"):
        acu_hours = float(a["acu_hours_per_month"])
        items = [
            LineItem(
                "database",
                "Aurora Serverless v2 compute",
                acu_hours,
                "ACU-hours",
                float(a["usd_per_acu_hour"]),
                f"aurora_sv2_acu_hour_{profile.aurora_config.value.replace('-', '_')}",
                "0 while paused",
            ),
            LineItem(
                "database",
                "Aurora storage",
                profile.storage_gb,
                "GB-month",
                float(a["usd_per_gb_month"]),
                f"aurora_storage_gb_month_{profile.aurora_config.value.replace('-', '_')}",
            ),
        ]
        backup_key = "aurora_backup_gb_month"
    else:
        items = [
            LineItem(
                "database",
                f"RDS {a['instance_class']} instance",
                float(a["instance_hours_per_month"]),
                "instance-hours",
                float(a["usd_per_instance_hour"]),
                f"rds_instances.{a['instance_class']}.single_az_hour",
                "runs all month; "
                + (
                    f"{a['instance_memory_gib']:g} GiB for the {a['load_memory_gib']:g} GiB "
                    "of the ACU load"
                    if a["instance_chosen_by"] == "the load"
                    else "named with --instance-class"
                ),
            ),
            LineItem(
                "database",
                "RDS gp3 storage",
                float(a["billed_storage_gb"]),
                "GB-month",
                float(a["usd_per_gb_month"]),
                "rds_gp3_gb_month_single_az",
                "at least 20 GB",
            ),
        ]
        backup_key = "rds_backup_gb_month"
    if b.io:
        items.append(
            LineItem(
                "database",
                "Aurora I/O",
                profile.io_millions_per_month,
                "million requests",
                region.aurora_io_per_million_standard.usd,
                "aurora_io_per_million_standard",
            )
        )
    items.append(
        LineItem(
            "database",
            "Backup storage beyond the free share",
            profile.backup_gb,
            "GB-month",
            b.backup / profile.backup_gb if profile.backup_gb else getattr(region, backup_key).usd,
            backup_key,
            "7-day backups fit the free share (100% of the database size)",
        )
    )
    return items


def _awake_hours_per_month(database: str, profile: Profile, region: RegionPricing) -> float:
    if not database.startswith("aurora"):
        return profile.hours_per_month
    paused = float(estimate(database, profile, region).assumptions["paused_hours_per_day"])
    return (24.0 - paused) * profile.days_per_month


def billed_init_seconds(init_seconds: float) -> float:
    """Billed INIT time of one cold start: an INIT over 10 s is cut and run again, billed."""
    if init_seconds <= LAMBDA_INIT_LIMIT_S:
        return init_seconds
    return LAMBDA_INIT_LIMIT_S + init_seconds


def _lambda_items(
    requests: float, cold_starts: float, sp: StackProfile, st: StackPricing
) -> list[LineItem]:
    gb = sp.lambda_memory_mb / 1024.0
    gb_seconds = requests * sp.lambda_ms_per_request / 1000.0 * gb
    init_s = billed_init_seconds(sp.lambda_init_seconds)
    # With SnapStart a cold start restores the snapshot; INIT runs once per published version.
    inits = sp.snapstart_publishes_per_month if sp.snapstart else cold_starts
    init_gbs = inits * init_s * gb
    free_req, free_gbs = st.allowance("lambda_requests"), st.allowance("lambda_gb_seconds")
    free_left = max(0.0, free_gbs - gb_seconds)  # the free GB-seconds cover both phases
    key = f"lambda_gb_second_{sp.lambda_architecture}"
    snapstart = _snapstart_items(cold_starts, gb, sp, st) if sp.snapstart else []
    init_what = (
        f"{inits:,.0f} published version{'s' if inits != 1 else ''} (SnapStart)"
        if sp.snapstart
        else f"{cold_starts:,.0f} cold starts"
    )
    return [
        LineItem(
            "app tier",
            "Lambda requests",
            _billable(requests, free_req) / 1e6,
            "million requests",
            st.price("lambda_request_per_million").usd,
            "lambda_request_per_million",
            f"{requests:,.0f} requests, {free_req:,.0f} free",
        ),
        LineItem(
            "app tier",
            f"Lambda compute ({sp.lambda_architecture}, {sp.lambda_memory_mb:g} MB)",
            _billable(gb_seconds, free_gbs),
            "GB-seconds",
            st.price(key).usd,
            key,
            f"{gb_seconds:,.0f} GB-s, {free_gbs:,.0f} free",
        ),
        LineItem(
            "app tier",
            f"Lambda INIT (cold starts, billed since 2025-08; {sp.lambda_init_seconds:g} s each)",
            _billable(init_gbs, free_left),
            "GB-seconds",
            st.price(key).usd,
            key,
            f"{init_what} x {init_s:g} s x {gb:g} GB = {init_gbs:,.0f} GB-s, "
            f"in what is left of the {free_gbs:,.0f} free",
        ),
        *snapstart,
    ]


def _snapstart_items(
    cold_starts: float, gb: float, sp: StackProfile, st: StackPricing
) -> list[LineItem]:
    """SnapStart's own charges: the cached snapshot, all month, and each restore."""
    cached_gbs = sp.snapstart_versions * gb * _HOURS_PER_MONTH_BILLED * 3600.0
    return [
        LineItem(
            "app tier",
            f"Lambda SnapStart cache ({sp.snapstart_versions:g} version x {gb:g} GB, all month)",
            cached_gbs,
            "GB-seconds",
            st.price("lambda_snapstart_cache_gb_second").usd,
            "lambda_snapstart_cache_gb_second",
            "billed while the version's snapshot is kept, idle or not; no free tier",
        ),
        LineItem(
            "app tier",
            "Lambda SnapStart restores (one per cold start)",
            cold_starts * gb,
            "GB restored",
            st.price("lambda_snapstart_restore_gb").usd,
            "lambda_snapstart_restore_gb",
            f"{cold_starts:,.0f} cold starts x {gb:g} GB; no free tier",
        ),
    ]


def _app_tier_items(
    tier: str,
    requests: float,
    cold_starts: float,
    active_hours: float,
    sp: StackProfile,
    st: StackPricing,
) -> list[LineItem]:
    hours = _HOURS_PER_MONTH_BILLED
    http_api = LineItem(
        "app tier",
        "API Gateway HTTP API requests",
        requests / 1e6,
        "million requests",
        st.price("http_api_request_per_million").usd,
        "http_api_request_per_million",
        "no free tier after the first year",
    )
    if tier == "lambda-http-api":
        return [*_lambda_items(requests, cold_starts, sp, st), http_api]
    if tier == "lambda-function-url":
        return [
            *_lambda_items(requests, cold_starts, sp, st),
            LineItem(
                "app tier",
                "Lambda function URL",
                requests / 1e6,
                "million requests",
                0.0,
                "lambda_request_per_million",
                "no charge beyond the Lambda requests",
            ),
        ]
    if tier == "lambda-http-api-nat":
        data_gb = requests * sp.kb_out_per_request / _KB_PER_GB
        return [
            *_lambda_items(requests, cold_starts, sp, st),
            http_api,
            LineItem(
                "network",
                "NAT gateway",
                hours,
                "hours",
                st.price("nat_gateway_hour").usd,
                "nat_gateway_hour",
                "one zone",
            ),
            LineItem(
                "network",
                "NAT gateway data processed",
                data_gb,
                "GB",
                st.price("nat_gateway_gb").usd,
                "nat_gateway_gb",
            ),
            LineItem(
                "network",
                "Public IPv4 address (the NAT's)",
                hours,
                "hours",
                st.price("public_ipv4_hour").usd,
                "public_ipv4_hour",
            ),
        ]
    if tier == "lambda-http-api-ssm-endpoints":
        return [
            *_lambda_items(requests, cold_starts, sp, st),
            http_api,
            LineItem(
                "network",
                f"SSM interface endpoint in {sp.endpoint_azs:g} zones",
                hours * sp.endpoint_azs,
                "endpoint-zone-hours",
                st.price("interface_endpoint_az_hour").usd,
                "interface_endpoint_az_hour",
            ),
        ]
    if tier == "fargate-alb":
        task_hour = (
            sp.fargate_vcpu * st.price("fargate_vcpu_hour_arm64").usd
            + sp.fargate_gb * st.price("fargate_gb_hour_arm64").usd
        )
        return [
            LineItem(
                "app tier",
                f"Fargate task {sp.fargate_vcpu:g} vCPU / {sp.fargate_gb:g} GB (arm64, always on)",
                hours,
                "task-hours",
                task_hour,
                "fargate_vcpu_hour_arm64 + fargate_gb_hour_arm64",
            ),
            LineItem(
                "app tier",
                "Application Load Balancer",
                hours,
                "hours",
                st.price("alb_hour").usd,
                "alb_hour",
            ),
            LineItem(
                "app tier",
                "ALB capacity units",
                active_hours * sp.alb_lcu_when_active,
                "LCU-hours",
                st.price("alb_lcu_hour").usd,
                "alb_lcu_hour",
            ),
            LineItem(
                "network",
                f"Public IPv4 addresses ({sp.fargate_public_ipv4:g}: the ALB's two, the task's)",
                hours * sp.fargate_public_ipv4,
                "address-hours",
                st.price("public_ipv4_hour").usd,
                "public_ipv4_hour",
                "the task in a public subnet instead of a NAT gateway",
            ),
        ]
    raise InvalidInputError(
        f"--app-tier: unknown app tier {tier!r}; expected one of {', '.join(APP_TIERS)}",
        field="--app-tier",
    )


def kms_rotations(month: int, rotation_days: float) -> int:
    """Rotations a key created at month 0 has been through by the start of ``month``."""
    days = month * _HOURS_PER_MONTH_BILLED / 24.0
    return math.floor(days / rotation_days + 1e-9)


def _common_items(
    requests: float,
    active_hours: float,
    awake_hours: float,
    month: int,
    sp: StackProfile,
    st: StackPricing,
) -> list[LineItem]:
    free_alarms = st.allowance("cloudwatch_alarms")
    free_dash = st.allowance("cloudwatch_dashboards")
    free_metrics = st.allowance("cloudwatch_custom_metrics")
    free_logs = st.allowance("logs_gb")
    free_mau = st.allowance("cognito_mau")
    free_out = st.allowance("data_transfer_out_gb")
    free_budgets = st.allowance("budgets")
    rotations = kms_rotations(month, sp.kms_rotation_days) if sp.kms_keys else 0
    billed_rotations = min(rotations, KMS_BILLED_ROTATIONS)
    log_gb = (
        requests * sp.log_kb_per_request + awake_hours * sp.enhanced_monitoring_kb_per_awake_hour
    ) / _KB_PER_GB
    out_gb = requests * sp.kb_out_per_request / _KB_PER_GB
    # A custom metric is billed by the hour it is published: only while the service runs.
    metric_months = sp.custom_metrics * active_hours / _HOURS_PER_MONTH_BILLED
    return [
        LineItem(
            "security",
            "Secrets Manager secret (master password)",
            float(sp.secrets),
            "secret-months",
            st.price("secrets_manager_secret_month").usd,
            "secrets_manager_secret_month",
            "the service logs in with IAM tokens: no API calls",
        ),
        LineItem(
            "security",
            "KMS customer managed keys",
            float(sp.kms_keys),
            "key-months",
            st.price("kms_key_month").usd,
            "kms_key_month",
            "AWS-managed keys (aws/rds, aws/secretsmanager, aws/lambda): no monthly charge"
            if sp.kms_keys == 0
            else f"{sp.kms_keys:g} key (customer_managed_key = true, --customer-managed-key)",
        ),
        LineItem(
            "security",
            "KMS key rotations (retained key material)",
            float(sp.kms_keys * billed_rotations),
            "rotation-months",
            st.price("kms_key_rotation_month").usd,
            "kms_key_rotation_month",
            f"{rotations} rotation{'s' if rotations != 1 else ''} by month {month + 1} "
            f"(every {sp.kms_rotation_days:g} days); the first {KMS_BILLED_ROTATIONS} are billed",
        ),
        LineItem(
            "monitoring",
            "AWS Budgets (the monthly cost budget)",
            _billable(sp.budgets, free_budgets) * _HOURS_PER_MONTH_BILLED / 24.0,
            "budget-days",
            st.price("budget_day").usd,
            "budget_day",
            f"{sp.budgets:g} budget, {free_budgets:g} free per account",
        ),
        LineItem(
            "monitoring",
            "CloudWatch alarms",
            _billable(sp.alarms, free_alarms),
            "alarm-months",
            st.price("cloudwatch_alarm_month").usd,
            "cloudwatch_alarm_month",
            f"{sp.alarms:g} alarms, {free_alarms:g} free",
        ),
        LineItem(
            "monitoring",
            "CloudWatch dashboard",
            _billable(sp.dashboards, free_dash),
            "dashboard-months",
            st.price("cloudwatch_dashboard_month").usd,
            "cloudwatch_dashboard_month",
            f"{sp.dashboards:g} dashboard, {free_dash:g} free",
        ),
        LineItem(
            "monitoring",
            "Custom metrics (the service's EMF metrics)",
            _billable(metric_months, free_metrics),
            "metric-months",
            st.price("cloudwatch_custom_metric_month").usd,
            "cloudwatch_custom_metric_month",
            f"{sp.custom_metrics:g} metrics while the service runs, {free_metrics:g} free",
        ),
        LineItem(
            "monitoring",
            "CloudWatch Logs ingestion (service, API, Enhanced Monitoring)",
            _billable(log_gb, free_logs),
            "GB",
            st.price("logs_ingest_gb").usd,
            "logs_ingest_gb",
            f"{log_gb * 1024:,.1f} MB, {free_logs:g} GB free",
        ),
        LineItem(
            "monitoring",
            f"CloudWatch Logs storage ({sp.log_retention_months:g} months kept)",
            log_gb * sp.log_retention_months,
            "GB-month",
            st.price("logs_storage_gb_month").usd,
            "logs_storage_gb_month",
            "steady state, uncompressed: an upper bound",
        ),
        LineItem(
            "sign-in",
            "Cognito user pool (Lite)",
            _billable(sp.monthly_active_users, free_mau),
            "monthly active users",
            st.price("cognito_mau_lite").usd,
            "cognito_mau_lite",
            f"{sp.monthly_active_users:g} user, {free_mau:,.0f} free",
        ),
        LineItem(
            "network",
            "Data transfer out to the internet",
            _billable(out_gb, free_out),
            "GB",
            st.price("data_transfer_out_gb").usd,
            "data_transfer_out_gb",
            f"{out_gb * 1024:,.1f} MB, {free_out:g} GB free; the VPC and the egress-only "
            "gateway cost nothing",
        ),
    ]


def estimate_stack(
    app_tier: str,
    database: str,
    scenario: str,
    profile: Profile,
    region: RegionPricing,
    stack_profile: StackProfile | None = None,
    month: int = 0,
) -> StackEstimate:
    """The cost of ``app_tier`` with ``database`` when ``scenario`` is idle or active.

    ``month`` counts from the deployment (0: the first month); only the KMS key rotations
    depend on it.
    """
    sp = stack_profile or StackProfile()
    st = region.stack_pricing()
    if database not in STACK_DATABASES:
        raise InvalidInputError(
            f"database: unknown database {database!r}; expected one of "
            f"{', '.join(STACK_DATABASES)}",
            field="database",
        )
    if scenario == "idle":
        profile = replace(profile, active_hours_per_day=0.0)
    elif scenario != "active":
        raise InvalidInputError(f"scenario: must be idle or active, got {scenario!r}")
    active_hours = profile.active_hours_per_day * profile.days_per_month
    if isinstance(month, bool) or not isinstance(month, int) or month < 0:
        raise InvalidInputError(f"month: must be a whole number >= 0, got {month!r}", field="month")
    requests = active_hours * sp.requests_per_active_hour
    cold_starts = (
        profile.sessions_per_day * profile.days_per_month * sp.cold_starts_per_session
        if requests > 0
        else 0.0
    )
    awake = _awake_hours_per_month(database, profile, region)
    items = [
        *_app_tier_items(app_tier, requests, cold_starts, active_hours, sp, st),
        *_database_items(database, profile, region),
        *_common_items(requests, active_hours, awake, month, sp, st),
    ]
    return StackEstimate(app_tier, database, scenario, items)


def estimate_stack_all(
    profile: Profile, region: RegionPricing, stack_profile: StackProfile | None = None
) -> list[StackEstimate]:
    """Every app tier with every database, idle then active, the chosen design first."""
    return [
        estimate_stack(tier, db, scenario, profile, region, stack_profile)
        for tier in APP_TIERS
        for db in STACK_DATABASES
        for scenario in SCENARIOS
    ]


@dataclass(frozen=True)
class YearCost:
    """One year of one combination: the twelve months' total and their average."""

    year: int
    total_usd: float
    months: tuple[float, ...]

    @property
    def monthly_usd(self) -> float:
        return self.total_usd / len(self.months)

    @property
    def dearest_month_usd(self) -> float:
        return max(self.months)


def estimate_years(
    app_tier: str,
    database: str,
    scenario: str,
    profile: Profile,
    region: RegionPricing,
    stack_profile: StackProfile | None = None,
    years: int = TARGET_YEARS,
) -> list[YearCost]:
    """Year by year from the deployment, month by month inside (key rotations change them)."""
    if isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 10:
        raise InvalidInputError(f"--years: must be 1 to 10, got {years!r}", field="--years")
    out = []
    for year in range(1, years + 1):
        months = tuple(
            estimate_stack(
                app_tier, database, scenario, profile, region, stack_profile, month=m
            ).monthly_usd
            for m in range(12 * (year - 1), 12 * year)
        )
        out.append(YearCost(year, sum(months), months))
    return out
