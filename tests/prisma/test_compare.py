"""The harness's own pieces that need no node: the value codec, URLs, the comparison."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.prisma.harness import (
    Difference,
    client_url,
    compare,
    decode_value,
    encode_portfolio,
    format_differences,
)
from tests.prisma.portfolio import sample_portfolio


def test_compare_of_a_portfolio_with_itself_is_empty() -> None:
    assert compare(sample_portfolio(), sample_portfolio()) == []


def test_compare_names_model_id_field_and_both_values() -> None:
    left, right = sample_portfolio(), sample_portfolio()
    shifted = right["trades"][1]["buy_date"] + timedelta(milliseconds=1)
    right["trades"][1]["buy_date"] = shifted
    right["universe"][0]["expired"] = 0  # an int is not the boolean False
    assert compare(left, right) == [
        Difference("trades", "t-01", "buy_date", left["trades"][1]["buy_date"], shifted),
        Difference("universe", "u-pdi", "expired", False, 0),
    ]


def test_compare_floats_bit_for_bit() -> None:
    left = {"m": [{"id": "1", "x": 0.1 + 0.2, "z": 0.0, "n": math.nan}]}
    right = {"m": [{"id": "1", "x": 0.3, "z": -0.0, "n": math.nan}]}
    assert [d.field for d in compare(left, right)] == ["x", "z"]


def test_compare_reports_missing_rows_and_fields() -> None:
    left = {"m": [{"id": "1", "a": None}, {"id": "2"}]}
    right = {"m": [{"id": "1"}], "other": [{"id": "9"}]}
    assert compare(left, right) == [
        Difference("m", "1", "a", None, "<absent>"),
        Difference("m", "2", "*", "row", "<absent>"),
        Difference("other", "9", "*", "<absent>", "row"),
    ]
    assert "m id=2 *" in format_differences(compare(left, right))


def test_encoding_keeps_what_json_cannot() -> None:
    when = datetime(2025, 11, 2, 1, 30, 0, 123000, tzinfo=timezone(timedelta(hours=-5)))
    encoded = encode_portfolio(
        {"m": [{"id": "1", "t": when, "a": -0.0, "b": math.inf, "c": math.nan, "d": 0.1 + 0.2}]}
    )
    assert encoded == {
        "m": [
            {
                "id": "1",
                "t": "2025-11-02T06:30:00.123Z",
                "a": "-0",
                "b": "Infinity",
                "c": "NaN",
                "d": 0.30000000000000004,
            }
        ]
    }
    assert math.copysign(1.0, decode_value("Float", "-0")) < 0
    assert decode_value("DateTime", "2025-11-02T06:30:00.123Z") == when
    assert decode_value("DateTime", "2025-11-02T06:30:00.123Z").tzinfo == UTC


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (datetime(2025, 1, 1), "naive"),
        (datetime(2025, 1, 1, 0, 0, 0, 1, tzinfo=UTC), "milliseconds"),
        (b"bytes", "cannot send bytes"),
    ],
)
def test_encoding_refuses_what_prisma_would_change(value: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as info:
        encode_portfolio({"trades": [{"id": "t-9", "buy_date": value}]})
    assert "trades id=t-9 buy_date" in str(info.value)


def test_client_urls(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    assert client_url(db) == f"file:{db}"
    assert client_url(f"sqlite:///{db}") == f"file:{db}"
    assert client_url("file:/a/b.db") == "file:/a/b.db"
    assert (
        client_url("postgresql+psycopg://u:p%40ss@h:5433/d?sslmode=require")
        == "postgresql://u:p%40ss@h:5433/d?sslmode=require"
    )
    with pytest.raises(ValueError, match="not an SQLite or PostgreSQL"):
        client_url("mysql://h/d")
