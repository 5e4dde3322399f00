"""The pricing table: load, validate and look up prices.

The table is a JSON document (format ``rms-cost-pricing/1``). The built-in one ships as package
data (``rms/cost/data/aws-2026.json``); a user can pass their own with ``--pricing FILE``. Every
figure carries its ``source`` and an ``as_of`` date, because a price without provenance cannot be
checked, and prices change.

Validation is strict and names the exact key that is wrong (``regions.us-east-1.rds_instances.
db.t4g.micro.single_az_hour.usd: must be a number >= 0``), so a typo in a hand-written table is
a one-line message, not a stack trace or a silently wrong estimate.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from rms.errors import ConfigError, InvalidInputError

__all__ = [
    "BUILTIN_TABLE",
    "FORMAT",
    "REGION_PRICE_KEYS",
    "STACK_FREE_KEYS",
    "STACK_PRICE_KEYS",
    "Allowance",
    "InstancePrice",
    "InstanceSpec",
    "Price",
    "PricingTable",
    "RegionPricing",
    "StackPricing",
    "load_builtin_pricing",
    "load_pricing",
    "parse_pricing",
]

FORMAT = "rms-cost-pricing/1"
BUILTIN_TABLE = "aws-2026.json"

#: The flat per-region prices every region must define (besides ``rds_instances``).
REGION_PRICE_KEYS: tuple[str, ...] = (
    "aurora_sv2_acu_hour_standard",
    "aurora_sv2_acu_hour_io_optimized",
    "aurora_storage_gb_month_standard",
    "aurora_storage_gb_month_io_optimized",
    "aurora_io_per_million_standard",
    "aurora_backup_gb_month",
    "rds_gp3_gb_month_single_az",
    "rds_gp3_gb_month_multi_az",
    "rds_backup_gb_month",
)

#: Prices of the rest of the stack (``regions.<r>.stack.prices``), used by ``--stack``.
STACK_PRICE_KEYS: tuple[str, ...] = (
    "lambda_request_per_million",
    "lambda_gb_second_arm64",
    "lambda_gb_second_x86_64",
    "lambda_snapstart_cache_gb_second",
    "lambda_snapstart_restore_gb",
    "http_api_request_per_million",
    "secrets_manager_secret_month",
    "kms_key_month",
    "kms_key_rotation_month",
    "budget_day",
    "cloudwatch_alarm_month",
    "cloudwatch_dashboard_month",
    "cloudwatch_custom_metric_month",
    "logs_ingest_gb",
    "logs_storage_gb_month",
    "cognito_mau_lite",
    "nat_gateway_hour",
    "nat_gateway_gb",
    "public_ipv4_hour",
    "interface_endpoint_az_hour",
    "interface_endpoint_gb",
    "alb_hour",
    "alb_lcu_hour",
    "fargate_vcpu_hour_arm64",
    "fargate_gb_hour_arm64",
    "data_transfer_out_gb",
)

#: Always-free monthly allowances (``regions.<r>.stack.free``): quantities, not prices.
STACK_FREE_KEYS: tuple[str, ...] = (
    "lambda_requests",
    "lambda_gb_seconds",
    "cloudwatch_alarms",
    "cloudwatch_dashboards",
    "cloudwatch_custom_metrics",
    "logs_gb",
    "cognito_mau",
    "data_transfer_out_gb",
    "budgets",
)

_AS_OF = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


@dataclass(frozen=True)
class Price:
    """One figure in US dollars, with where it came from and when it was taken."""

    usd: float
    source: str
    as_of: str


@dataclass(frozen=True)
class Allowance:
    """A monthly quantity AWS does not bill (an always-free allowance), with its provenance."""

    quantity: float
    unit: str
    source: str
    as_of: str


@dataclass(frozen=True)
class StackPricing:
    """Prices and free allowances of everything around the database (``--stack``)."""

    prices: dict[str, Price]
    free: dict[str, Allowance]

    def price(self, key: str) -> Price:
        return self.prices[key]

    def allowance(self, key: str) -> float:
        return self.free[key].quantity


@dataclass(frozen=True)
class InstanceSpec:
    """What one RDS instance class holds: vCPUs and memory, with where the figures are from."""

    vcpu: float
    memory_gib: float
    source: str
    as_of: str


@dataclass(frozen=True)
class InstancePrice:
    """Hourly price of one RDS instance class, single-AZ and Multi-AZ (and its size, if known)."""

    single_az_hour: Price
    multi_az_hour: Price
    spec: InstanceSpec | None = None


@dataclass(frozen=True)
class RegionPricing:
    """All the prices the model needs for one region."""

    region: str
    aurora_sv2_acu_hour_standard: Price
    aurora_sv2_acu_hour_io_optimized: Price
    aurora_storage_gb_month_standard: Price
    aurora_storage_gb_month_io_optimized: Price
    aurora_io_per_million_standard: Price
    aurora_backup_gb_month: Price
    rds_gp3_gb_month_single_az: Price
    rds_gp3_gb_month_multi_az: Price
    rds_backup_gb_month: Price
    rds_instances: dict[str, InstancePrice]
    stack: StackPricing | None = None

    def stack_pricing(self) -> StackPricing:
        """The stack prices; a table without them is the user's input error (``--stack``)."""
        if self.stack is None:
            raise InvalidInputError(
                f"--stack: the pricing table has no stack prices for {self.region} "
                "(regions.<region>.stack, as in the built-in table)",
                field="--stack",
            )
        return self.stack

    def instance(self, instance_class: str) -> InstancePrice:
        """The hourly prices of ``instance_class``; an unknown class is the user's input error."""
        try:
            return self.rds_instances[instance_class]
        except KeyError:
            known = ", ".join(sorted(self.rds_instances))
            raise InvalidInputError(
                f"--instance-class: unknown instance class {instance_class!r} in {self.region}; "
                f"the pricing table has: {known}",
                field="--instance-class",
            ) from None

    def instance_for_memory(self, memory_gib: float) -> str | None:
        """The cheapest single-AZ class with at least ``memory_gib`` of memory (None: none has).

        Only classes whose ``spec`` the table gives are candidates; a tie goes to the name
        first in alphabetical order, so the answer does not depend on the table's order.
        """
        fits = [
            (inst.single_az_hour.usd, name)
            for name, inst in self.rds_instances.items()
            if inst.spec is not None and inst.spec.memory_gib >= memory_gib
        ]
        return min(fits)[1] if fits else None

    def largest_instance(self) -> tuple[str, InstanceSpec] | None:
        """The class with the most memory whose ``spec`` the table gives (None: no spec)."""
        sized = [(i.spec, n) for n, i in self.rds_instances.items() if i.spec is not None]
        if not sized:
            return None
        spec, name = max(sized, key=lambda sn: (sn[0].memory_gib, sn[1]))
        return name, spec


@dataclass(frozen=True)
class PricingTable:
    """A validated pricing table: prices per region, and where the table came from."""

    origin: str
    currency: str
    regions: dict[str, RegionPricing]

    def region(self, name: str) -> RegionPricing:
        """The prices of region ``name``; an unknown region is the user's input error."""
        try:
            return self.regions[name]
        except KeyError:
            known = ", ".join(sorted(self.regions))
            raise InvalidInputError(
                f"--region: unknown region {name!r}; the pricing table ({self.origin}) has: "
                f"{known} (pass your own table with --pricing FILE)",
                field="--region",
            ) from None


def _bad(origin: str, path: str, reason: str) -> ConfigError:
    return ConfigError(
        f"--pricing: invalid pricing table {origin}: {path}: {reason}",
        field="--pricing",
        key=path,
    )


def _mapping(value: Any, origin: str, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(origin, path, f"must be an object, got {type(value).__name__}")
    return value


def _price(value: Any, origin: str, path: str) -> Price:
    obj = _mapping(value, origin, path)
    for key in ("usd", "source", "as_of"):
        if key not in obj:
            raise _bad(origin, f"{path}.{key}", "missing")
    usd = obj["usd"]
    # bool is an int subclass: reject it explicitly, ``true`` is never a price.
    if isinstance(usd, bool) or not isinstance(usd, int | float) or not usd >= 0:
        raise _bad(origin, f"{path}.usd", f"must be a number >= 0, got {usd!r}")
    if not math.isfinite(usd):  # Python's json reads ``Infinity`` (NaN fails ``>= 0`` above)
        raise _bad(origin, f"{path}.usd", "must be finite")
    source = obj["source"]
    if not isinstance(source, str) or not source.strip():
        raise _bad(origin, f"{path}.source", "must be a non-empty string saying where it is from")
    as_of = obj["as_of"]
    if not isinstance(as_of, str) or not _AS_OF.match(as_of):
        raise _bad(origin, f"{path}.as_of", f"must be a date YYYY[-MM[-DD]], got {as_of!r}")
    return Price(usd=float(usd), source=source, as_of=as_of)


def _allowance(value: Any, origin: str, path: str) -> Allowance:
    obj = _mapping(value, origin, path)
    for key in ("quantity", "unit", "source", "as_of"):
        if key not in obj:
            raise _bad(origin, f"{path}.{key}", "missing")
    quantity = obj["quantity"]
    if isinstance(quantity, bool) or not isinstance(quantity, int | float) or not quantity >= 0:
        raise _bad(origin, f"{path}.quantity", f"must be a number >= 0, got {quantity!r}")
    if not math.isfinite(quantity):
        raise _bad(origin, f"{path}.quantity", "must be finite")
    # The price carries the source checks; reuse them with a dummy figure.
    checked = _price({"usd": 0, "source": obj["source"], "as_of": obj["as_of"]}, origin, path)
    unit = obj["unit"]
    if not isinstance(unit, str) or not unit.strip():
        raise _bad(origin, f"{path}.unit", "must be a non-empty string")
    return Allowance(float(quantity), unit, checked.source, checked.as_of)


def _spec(value: Any, origin: str, path: str) -> InstanceSpec:
    obj = _mapping(value, origin, path)
    _keyed(obj, ("vcpu", "memory_gib", "source", "as_of"), origin, path)
    figures: dict[str, float] = {}
    for key in ("vcpu", "memory_gib"):
        v = obj[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or not v > 0:
            raise _bad(origin, f"{path}.{key}", f"must be a number > 0, got {v!r}")
        if not math.isfinite(v):
            raise _bad(origin, f"{path}.{key}", "must be finite")
        figures[key] = float(v)
    checked = _price({"usd": 0, "source": obj["source"], "as_of": obj["as_of"]}, origin, path)
    return InstanceSpec(figures["vcpu"], figures["memory_gib"], checked.source, checked.as_of)


def _keyed(obj: dict[str, Any], keys: tuple[str, ...], origin: str, path: str) -> None:
    for key in keys:
        if key not in obj:
            raise _bad(origin, f"{path}.{key}", "missing")
    unknown = sorted(set(obj) - set(keys))
    if unknown:
        raise _bad(origin, f"{path}.{unknown[0]}", "unknown key (a typo?)")


def _stack(value: Any, origin: str, path: str) -> StackPricing:
    obj = _mapping(value, origin, path)
    _keyed(obj, ("prices", "free"), origin, path)
    prices_obj = _mapping(obj["prices"], origin, f"{path}.prices")
    _keyed(prices_obj, STACK_PRICE_KEYS, origin, f"{path}.prices")
    free_obj = _mapping(obj["free"], origin, f"{path}.free")
    _keyed(free_obj, STACK_FREE_KEYS, origin, f"{path}.free")
    return StackPricing(
        prices={k: _price(prices_obj[k], origin, f"{path}.prices.{k}") for k in STACK_PRICE_KEYS},
        free={k: _allowance(free_obj[k], origin, f"{path}.free.{k}") for k in STACK_FREE_KEYS},
    )


def _region(name: str, value: Any, origin: str) -> RegionPricing:
    base = f"regions.{name}"
    obj = _mapping(value, origin, base)
    prices: dict[str, Price] = {}
    for key in REGION_PRICE_KEYS:
        if key not in obj:
            raise _bad(origin, f"{base}.{key}", "missing")
        prices[key] = _price(obj[key], origin, f"{base}.{key}")
    if "rds_instances" not in obj:
        raise _bad(origin, f"{base}.rds_instances", "missing")
    inst_obj = _mapping(obj["rds_instances"], origin, f"{base}.rds_instances")
    if not inst_obj:
        raise _bad(origin, f"{base}.rds_instances", "must list at least one instance class")
    instances: dict[str, InstancePrice] = {}
    for cls, entry in inst_obj.items():
        ipath = f"{base}.rds_instances.{cls}"
        iobj = _mapping(entry, origin, ipath)
        for key in ("single_az_hour", "multi_az_hour"):
            if key not in iobj:
                raise _bad(origin, f"{ipath}.{key}", "missing")
        unknown_keys = sorted(set(iobj) - {"single_az_hour", "multi_az_hour", "spec"})
        if unknown_keys:
            raise _bad(origin, f"{ipath}.{unknown_keys[0]}", "unknown key (a typo?)")
        instances[cls] = InstancePrice(
            single_az_hour=_price(iobj["single_az_hour"], origin, f"{ipath}.single_az_hour"),
            multi_az_hour=_price(iobj["multi_az_hour"], origin, f"{ipath}.multi_az_hour"),
            spec=_spec(iobj["spec"], origin, f"{ipath}.spec") if "spec" in iobj else None,
        )
    unknown = sorted(set(obj) - set(REGION_PRICE_KEYS) - {"rds_instances", "stack"})
    if unknown:
        # A misspelt key would otherwise be ignored while the right one is reported missing;
        # being strict here catches it by name.
        raise _bad(origin, f"{base}.{unknown[0]}", "unknown key (a typo?)")
    stack = _stack(obj["stack"], origin, f"{base}.stack") if "stack" in obj else None
    return RegionPricing(region=name, rds_instances=instances, stack=stack, **prices)


def parse_pricing(document: Any, origin: str = "<data>") -> PricingTable:
    """Validate a decoded JSON document and build the :class:`PricingTable`.

    Raises :class:`ConfigError` naming the first key that is wrong.
    """
    root = _mapping(document, origin, "(top level)")
    fmt = root.get("format")
    if fmt != FORMAT:
        raise _bad(origin, "format", f"must be {FORMAT!r}, got {fmt!r}")
    currency = root.get("currency", "USD")
    if currency != "USD":
        raise _bad(origin, "currency", f"only 'USD' is supported, got {currency!r}")
    if "regions" not in root:
        raise _bad(origin, "regions", "missing")
    regions_obj = _mapping(root["regions"], origin, "regions")
    if not regions_obj:
        raise _bad(origin, "regions", "must define at least one region")
    regions = {name: _region(name, value, origin) for name, value in regions_obj.items()}
    return PricingTable(origin=origin, currency="USD", regions=regions)


def load_pricing(path: Path) -> PricingTable:
    """Read and validate a user's pricing table from ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInputError(
            f"--pricing: file {str(path)!r} does not exist", field="--pricing"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"--pricing: cannot read {str(path)!r}: {exc}", field="--pricing"
        ) from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"--pricing: {str(path)!r} is not valid JSON: {exc.msg} at line {exc.lineno} "
            f"column {exc.colno}",
            field="--pricing",
        ) from exc
    return parse_pricing(document, origin=str(path))


def load_builtin_pricing() -> PricingTable:
    """The pricing table shipped with the package."""
    text = resources.files("rms.cost").joinpath("data", BUILTIN_TABLE).read_text(encoding="utf-8")
    return parse_pricing(json.loads(text), origin=f"built-in {BUILTIN_TABLE}")
