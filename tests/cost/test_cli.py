"""``rms cost estimate`` and ``plot`` through the real entry point: formats and bad input."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.rms_cli import CliResult, run_rms

PROFILE = [
    "--active-hours-per-day", "2", "--acu-when-active", "1", "--storage-gb", "20",
    "--instance-class", "db.t4g.micro",
]  # fmt: skip


def run(*args: str) -> CliResult:
    return run_rms("cost", *args)


def assert_clean_error(result: CliResult, *needles: str) -> None:
    """Exit 2, one ``error:`` line naming the problem on stderr, and no traceback anywhere."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert len(result.error_lines) == 1, result.stderr
    assert result.stderr.startswith("error: ")
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_no_args_prints_help() -> None:
    result = run()
    assert "estimate" in result.output
    assert "measured" in result.output


def test_json_output() -> None:
    result = run("estimate", *PROFILE, "--format", "json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    by_option = {r["option"]: r for r in records}
    assert list(by_option) == [
        "rds-single-az",
        "rds-multi-az",
        "aurora-sv2-floor",
        "aurora-sv2-scale-to-zero",
    ]
    assert by_option["rds-single-az"]["monthly_usd"] == 13.98
    assert by_option["rds-single-az"]["breakdown"] == {
        "compute": 11.68,
        "storage": 2.3,
        "io": 0.0,
        "backup": 0.0,
    }
    assert by_option["rds-multi-az"]["monthly_usd"] == 27.96
    assert by_option["aurora-sv2-floor"]["monthly_usd"] == 49.45
    assert by_option["aurora-sv2-scale-to-zero"]["monthly_usd"] == pytest.approx(9.4521, abs=1e-4)
    assert [r["option"] for r in records if r["cheapest"]] == ["aurora-sv2-scale-to-zero"]
    be = by_option["rds-single-az"]["break_even_active_hours_per_day"]
    assert be["aurora-sv2-scale-to-zero"] == [pytest.approx(3.2405, abs=1e-4)]
    assert be["aurora-sv2-floor"] == []
    assert records[0]["profile"]["region"] == "us-east-1"


def test_csv_output() -> None:
    result = run("estimate", *PROFILE, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    single = rows[0]
    assert single["option"] == "rds-single-az"
    assert (single["monthly_usd"], single["compute"], single["storage"]) == (
        "13.98",
        "11.68",
        "2.30",
    )
    assert single["break_even_vs_aurora-sv2-scale-to-zero"] == "3.24"
    assert single["break_even_vs_rds-multi-az"] == ""
    assert [r["option"] for r in rows if r["cheapest"] == "yes"] == ["aurora-sv2-scale-to-zero"]


def test_table_output() -> None:
    result = run("estimate", *PROFILE)
    assert result.exit_code == 0, result.output
    out = result.stdout
    for needle in (
        "aurora-sv2-scale-to-zero",
        "rds-single-az",
        "13.98",
        "27.96",
        "49.45",
        "9.45",
        "Cheapest: aurora-sv2-scale-to-zero ($9.45/month)",
        "3.24 h/day",
        "none in 0-24h",
    ):
        assert needle in out
    starred = [line for line in out.splitlines() if " * " in line and "│" in line]
    assert len(starred) == 1
    assert "aurora-sv2-scale-to-zero" in starred[0]


def test_heavy_use_makes_rds_cheapest() -> None:
    result = run(
        "estimate", "--active-hours-per-day", "12", "--acu-when-active", "1",
        "--storage-gb", "20", "--format", "json",
    )  # fmt: skip
    records = json.loads(result.stdout)
    assert [r["option"] for r in records if r["cheapest"]] == ["rds-single-az"]


def test_options_reach_the_model() -> None:
    result = run(
        "estimate", "--active-hours-per-day", "4", "--acu-when-active", "1", "--storage-gb", "0",
        "--sessions-per-day", "3", "--pause-delay-seconds", "600", "--io-millions-per-month", "5",
        "--hours-per-month", "730", "--instance-class", "db.t3.micro", "--backup-gb", "10",
        "--region", "us-west-2", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    by = {r["option"]: r for r in json.loads(result.stdout)}
    s2z = by["aurora-sv2-scale-to-zero"]["breakdown"]
    assert s2z == {"compute": 15.5125, "storage": 0.0, "io": 1.0, "backup": 0.21}
    assert by["rds-single-az"]["breakdown"]["compute"] == pytest.approx(730 * 0.018)


def test_io_optimized() -> None:
    result = run("estimate", *PROFILE, "--aurora-config", "io-optimized", "--format", "json")
    by = {r["option"]: r for r in json.loads(result.stdout)}
    assert by["aurora-sv2-floor"]["breakdown"]["storage"] == 4.5
    assert by["aurora-sv2-floor"]["assumptions"]["aurora_config"] == "io-optimized"


def test_user_pricing_file(tmp_path: Path, pricing_document: dict[str, Any]) -> None:
    east = pricing_document["regions"]["us-east-1"]
    east["rds_instances"]["db.t4g.micro"]["single_az_hour"]["usd"] = 0.032
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(pricing_document))
    result = run("estimate", *PROFILE, "--pricing", str(path), "--format", "json")
    assert result.exit_code == 0, result.output
    by = {r["option"]: r for r in json.loads(result.stdout)}
    assert by["rds-single-az"]["breakdown"]["compute"] == 23.36
    assert by["rds-single-az"]["profile"]["pricing"] == str(path)


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--active-hours-per-day", "-1"], ["error: --active-hours-per-day: must be at least 0"]),
        (["--active-hours-per-day", "25"], ["--active-hours-per-day", "at most 24, got 25"]),
        (["--storage-gb", "-3"], ["error: --storage-gb: must be at least 0"]),
        (["--acu-when-active", "0"], ["error: --acu-when-active: must be at least 0.5"]),
        (["--sessions-per-day", "0"], ["error: --sessions-per-day: must be at least 1"]),
        (["--pause-delay-seconds", "10"], ["error: --pause-delay-seconds: must be at least 300"]),
        (["--instance-class", "db.r7g.huge"], ["error: --instance-class: unknown", "db.t4g.micro"]),
        (["--region", "eu-mars-1"], ["error: --region: unknown region 'eu-mars-1'", "us-east-1"]),
    ],
)
def test_bad_input_is_one_clear_line(args: list[str], needles: list[str]) -> None:
    # later options override the PROFILE ones
    assert_clean_error(run("estimate", *PROFILE, *args), *needles)


def test_bad_pricing_files(tmp_path: Path, pricing_document: dict[str, Any]) -> None:
    assert_clean_error(
        run("estimate", *PROFILE, "--pricing", str(tmp_path / "missing.json")),
        "error: --pricing: file",
        "does not exist",
    )
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    assert_clean_error(
        run("estimate", *PROFILE, "--pricing", str(broken)),
        "error: --pricing:",
        "is not valid JSON",
        "line 1 column 2",
    )
    del pricing_document["regions"]["us-east-1"]["rds_gp3_gb_month_multi_az"]
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps(pricing_document))
    assert_clean_error(
        run("estimate", *PROFILE, "--pricing", str(partial)),
        "regions.us-east-1.rds_gp3_gb_month_multi_az: missing",
    )


def test_typer_level_errors_have_no_traceback() -> None:
    result = run("estimate", *PROFILE, "--format", "xml")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    result = run("estimate", "--active-hours-per-day", "two", "--acu-when-active", "1")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_heavy_aurora_load_is_compared_with_an_rds_class_that_holds_it() -> None:
    result = run(
        "estimate", "--active-hours-per-day", "24", "--acu-when-active", "256",
        "--storage-gb", "20", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    by = {r["option"]: r for r in json.loads(result.stdout)}
    rds = by["rds-single-az"]
    assert rds["assumptions"]["instance_class"] == "db.r6g.16xlarge"
    assert rds["assumptions"]["instance_memory_gib"] == 512
    assert rds["monthly_usd"] == 5253.92  # 7.194 x 730 + 20 x 0.115
    assert by["aurora-sv2-scale-to-zero"]["monthly_usd"] == 22427.6


def test_comparison_past_the_largest_class_is_refused(
    tmp_path: Path, pricing_document: dict[str, Any]
) -> None:
    region = pricing_document["regions"]["us-east-1"]
    region["rds_instances"] = {"db.t4g.micro": region["rds_instances"]["db.t4g.micro"]}
    table = tmp_path / "small.json"
    table.write_text(json.dumps(pricing_document), encoding="utf-8")
    result = run("estimate", *PROFILE[:6], "--pricing", str(table))
    assert_clean_error(result, "error: --acu-when-active:", "largest RDS class priced")
