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
    "IDLE_TARGET_USD",
    "SCENARIOS",
    "STACK_DATABASES",
    "LineItem",
    "StackEstimate",
    "StackProfile",
    "estimate_stack",
    "estimate_stack_all",
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
#: The goal of issue 13: the whole stack idle with 20 GB for less than this a month.
IDLE_TARGET_USD = 4.0

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

    The defaults describe infra/environments/dev: 14 alarms, one KMS key, one secret (the
    master password), one dashboard, the service's 5 custom metrics, one user.
    """

    requests_per_active_hour: float = 300.0
    #: Billed duration of an average request: bench/bench_lambda.py measures ~20 ms warm
    #: (connect included) on a full core and a 6-7 s cold start on a loaded one; 150 ms
    #: allows for 512 MB's third of a vCPU, TLS to Aurora and one cold start per session.
    lambda_ms_per_request: float = 150.0
    lambda_memory_mb: float = 512.0
    #: What infra/environments deploy: x86_64 on python3.11 (the locked psycopg-binary has no
    #: aarch64 wheel python3.11's Amazon Linux 2 can load; docs/lambda.md).
    lambda_architecture: str = "x86_64"
    log_kb_per_request: float = 1.0
    log_retention_months: float = 12.0
    enhanced_monitoring_kb_per_awake_hour: float = 90.0
    kb_out_per_request: float = 20.0
    alarms: int = 14
    kms_keys: int = 1
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
            "alarms",
            "kms_keys",
            "secrets",
            "dashboards",
            "custom_metrics",
            "monthly_active_users",
            "endpoint_azs",
            "fargate_vcpu",
            "fargate_gb",
            "alb_lcu_when_active",
            "fargate_public_ipv4",
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
        if self.lambda_architecture not in ("arm64", "x86_64"):
            raise InvalidInputError(
                f"--lambda-architecture: must be arm64 or x86_64, got {self.lambda_architecture!r}",
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


def _lambda_items(requests: float, sp: StackProfile, st: StackPricing) -> list[LineItem]:
    gb_seconds = requests * sp.lambda_ms_per_request / 1000.0 * sp.lambda_memory_mb / 1024.0
    free_req, free_gbs = st.allowance("lambda_requests"), st.allowance("lambda_gb_seconds")
    key = f"lambda_gb_second_{sp.lambda_architecture}"
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
    ]


def _app_tier_items(
    tier: str, requests: float, active_hours: float, sp: StackProfile, st: StackPricing
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
        return [*_lambda_items(requests, sp, st), http_api]
    if tier == "lambda-function-url":
        return [
            *_lambda_items(requests, sp, st),
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
            *_lambda_items(requests, sp, st),
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
            *_lambda_items(requests, sp, st),
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


def _common_items(
    requests: float, active_hours: float, awake_hours: float, sp: StackProfile, st: StackPricing
) -> list[LineItem]:
    free_alarms = st.allowance("cloudwatch_alarms")
    free_dash = st.allowance("cloudwatch_dashboards")
    free_metrics = st.allowance("cloudwatch_custom_metrics")
    free_logs = st.allowance("logs_gb")
    free_mau = st.allowance("cognito_mau")
    free_out = st.allowance("data_transfer_out_gb")
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
            "KMS customer-managed key (one for the stack)",
            float(sp.kms_keys),
            "key-months",
            st.price("kms_key_month").usd,
            "kms_key_month",
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
) -> StackEstimate:
    """The monthly cost of ``app_tier`` with ``database`` when ``scenario`` is idle or active."""
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
    requests = active_hours * sp.requests_per_active_hour
    awake = _awake_hours_per_month(database, profile, region)
    items = [
        *_app_tier_items(app_tier, requests, active_hours, sp, st),
        *_database_items(database, profile, region),
        *_common_items(requests, active_hours, awake, sp, st),
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
