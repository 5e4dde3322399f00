"""Cost model: what each database option (and the whole stack) costs, estimated and measured.

The arithmetic is in :mod:`rms.cost.model` (the database options) and :mod:`rms.cost.stack`
(the whole stack: app tier, sign-in, keys, secrets, monitoring, network), the prices in
:mod:`rms.cost.pricing` (package data ``data/aws-2026.json``), CloudWatch reading in
:mod:`rms.cost.measured`, the chart in :mod:`rms.cost.plot` and the Typer commands in
:mod:`rms.cost.cli`. Importing this package
loads no settings, opens no client and does not import matplotlib or boto3.
"""

from rms.cost.model import (
    OPTIONS,
    AuroraConfig,
    BreakEven,
    Estimate,
    Profile,
    break_evens,
    estimate,
    estimate_all,
)
from rms.cost.pricing import PricingTable, RegionPricing, load_builtin_pricing, load_pricing

__all__ = [
    "OPTIONS",
    "AuroraConfig",
    "BreakEven",
    "Estimate",
    "PricingTable",
    "Profile",
    "RegionPricing",
    "break_evens",
    "estimate",
    "estimate_all",
    "load_builtin_pricing",
    "load_pricing",
]
