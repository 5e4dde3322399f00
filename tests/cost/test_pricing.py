"""The pricing table: built-in figures, provenance, and strict validation of a user's table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rms.cost.pricing import REGION_PRICE_KEYS, load_builtin_pricing, load_pricing, parse_pricing
from rms.errors import ConfigError, InvalidInputError


def test_builtin_has_us_east_1_with_the_architecture_figures() -> None:
    r = load_builtin_pricing().region("us-east-1")
    assert r.aurora_sv2_acu_hour_standard.usd == 0.12
    assert r.aurora_storage_gb_month_standard.usd == 0.10
    assert r.aurora_io_per_million_standard.usd == 0.20
    assert r.aurora_backup_gb_month.usd == 0.021
    assert r.rds_gp3_gb_month_single_az.usd == 0.115
    micro = r.instance("db.t4g.micro")
    assert (micro.single_az_hour.usd, micro.multi_az_hour.usd) == (0.016, 0.032)
    for cls in ("db.t4g.micro", "db.t4g.small", "db.t3.micro"):
        assert r.instance(cls).multi_az_hour.usd > r.instance(cls).single_az_hour.usd


def test_every_builtin_figure_has_a_source_and_date() -> None:
    table = load_builtin_pricing()
    for region in table.regions.values():
        prices = [getattr(region, key) for key in REGION_PRICE_KEYS]
        for inst in region.rds_instances.values():
            prices += [inst.single_az_hour, inst.multi_az_hour]
        for price in prices:
            assert price.source.strip()
            assert price.as_of[:4].isdigit()


def test_user_table_round_trips(tmp_path: Path, pricing_document: dict[str, Any]) -> None:
    pricing_document["regions"]["us-east-1"]["aurora_sv2_acu_hour_standard"]["usd"] = 0.24
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(pricing_document))
    table = load_pricing(path)
    assert table.origin == str(path)
    assert table.region("us-east-1").aurora_sv2_acu_hour_standard.usd == 0.24


def test_unknown_region_names_the_option_and_the_known_ones() -> None:
    with pytest.raises(InvalidInputError, match=r"--region: unknown region 'mars-1'.*us-east-1"):
        load_builtin_pricing().region("mars-1")


def test_unknown_instance_class_names_the_option() -> None:
    r = load_builtin_pricing().region("us-east-1")
    with pytest.raises(InvalidInputError, match=r"--instance-class: unknown.*db\.t4g\.micro") as ei:
        r.instance("db.x99.huge")
    assert ei.value.field == "--instance-class"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="does not exist") as ei:
        load_pricing(tmp_path / "nope.json")
    assert ei.value.field == "--pricing"


def test_invalid_json_says_where(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"format": "rms-cost-pricing/1",\n "regions": {,}}')
    with pytest.raises(ConfigError, match=r"not valid JSON: .* line 2 column"):
        load_pricing(path)


def _break(doc: dict[str, Any], how: str) -> None:
    east = doc["regions"]["us-east-1"]
    if how == "missing-key":
        del east["aurora_backup_gb_month"]
    elif how == "negative":
        east["rds_instances"]["db.t4g.micro"]["single_az_hour"]["usd"] = -1
    elif how == "string-price":
        east["rds_gp3_gb_month_single_az"]["usd"] = "0.115"
    elif how == "bool-price":
        east["rds_gp3_gb_month_single_az"]["usd"] = True
    elif how == "no-source":
        east["aurora_sv2_acu_hour_standard"]["source"] = " "
    elif how == "bad-date":
        east["aurora_sv2_acu_hour_standard"]["as_of"] = "yesterday"
    elif how == "typo":
        east["aurora_backup_gb_mnth"] = east["aurora_backup_gb_month"]
    elif how == "no-multi-az":
        del east["rds_instances"]["db.t3.micro"]["multi_az_hour"]
    elif how == "format":
        doc["format"] = "something-else"
    elif how == "currency":
        doc["currency"] = "EUR"
    elif how == "not-object":
        doc["regions"]["us-east-1"] = [1, 2]


@pytest.mark.parametrize(
    ("how", "key"),
    [
        ("missing-key", "regions.us-east-1.aurora_backup_gb_month: missing"),
        ("negative", "regions.us-east-1.rds_instances.db.t4g.micro.single_az_hour.usd: must be"),
        ("string-price", "regions.us-east-1.rds_gp3_gb_month_single_az.usd: must be a number"),
        ("bool-price", "regions.us-east-1.rds_gp3_gb_month_single_az.usd: must be a number"),
        ("no-source", "regions.us-east-1.aurora_sv2_acu_hour_standard.source: must be"),
        ("bad-date", "regions.us-east-1.aurora_sv2_acu_hour_standard.as_of: must be a date"),
        ("typo", "regions.us-east-1.aurora_backup_gb_mnth: unknown key"),
        ("no-multi-az", "regions.us-east-1.rds_instances.db.t3.micro.multi_az_hour: missing"),
        ("format", "format: must be 'rms-cost-pricing/1'"),
        ("currency", "currency: only 'USD'"),
        ("not-object", "regions.us-east-1: must be an object"),
    ],
)
def test_malformed_table_names_the_key(
    pricing_document: dict[str, Any], how: str, key: str
) -> None:
    _break(pricing_document, how)
    with pytest.raises(ConfigError) as ei:
        parse_pricing(pricing_document, origin="mine.json")
    assert key in ei.value.message
    assert ei.value.message.startswith("--pricing: invalid pricing table mine.json: ")
    assert ei.value.field == "--pricing"


def test_top_level_must_be_an_object() -> None:
    with pytest.raises(ConfigError, match=r"\(top level\): must be an object"):
        parse_pricing([], origin="x")


def test_importing_the_package_is_cheap() -> None:
    """No matplotlib, boto3 or settings at import time (checked in a fresh interpreter)."""
    import subprocess
    import sys

    code = (
        "import sys, rms.cost, rms.cost.cli, rms.cost.model, rms.cost.report;"
        "bad = [m for m in ('matplotlib', 'boto3', 'botocore', 'rms.settings')"
        " if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


@pytest.mark.parametrize(
    ("literal", "reason"), [("Infinity", "must be finite"), ("NaN", "must be a number >= 0")]
)
def test_non_finite_prices_are_refused(tmp_path: Path, literal: str, reason: str) -> None:
    """Python's json reads Infinity and NaN; neither is a price."""
    builtin = Path(__file__).resolve().parents[2] / "src/rms/cost/data/aws-2026.json"
    text = builtin.read_text().replace('"usd": 0.12', f'"usd": {literal}', 1)
    assert literal in text
    path = tmp_path / "prices.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"usd: {reason}"):
        load_pricing(path)
