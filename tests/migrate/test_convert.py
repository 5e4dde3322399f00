"""The conversion rules, value by value, and the generated fast path against the reference."""

from __future__ import annotations

import math
import struct
from typing import Any

import pytest

from rms.migrate.convert import (
    MAX_MS,
    SECONDS_LIMIT,
    BadValue,
    converter,
    to_epoch_ms,
)
from rms.migrate.fastpath import row_function
from rms.transfer.digest import python_renderers, render_row, row_digest
from rms.transfer.spec import table_specs
from tests.transfer.test_digest import TRICKY_FLOATS

INSTANT = 1_705_322_096_789  # 2024-01-15T12:34:56.789Z


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (INSTANT, INSTANT),
        (float(INSTANT), INSTANT),
        (INSTANT // 1000, INSTANT // 1000 * 1000),  # epoch seconds
        (str(INSTANT), INSTANT),
        ("2024-01-15T12:34:56.789Z", INSTANT),
        ("2024-01-15 12:34:56.789", INSTANT),
        ("2024-01-15T12:34:56.789+00:00", INSTANT),
        ("2024-01-15T14:34:56.789+02:00", INSTANT),
        ("2024-01-15T07:34:56.789-0500", INSTANT),
        ("2024-01-15T13:34:56.789+01", INSTANT),
        ("2024-01-15 12:34:56.789000", INSTANT),
        ("2024-01-15 12:34:56.78900000Z", INSTANT),
        ("2024-01-15 12:34:56", INSTANT - 789),
        ("2024-01-15T12:34:56Z", INSTANT - 789),
        ("2024-01-15 12:34", INSTANT - 56_789),
        ("2024-01-15", 1_705_276_800_000),
        ("2024-01-15 12:34:56.7", INSTANT - 89),
        (0, 0),
        (-1, -1000),  # one second before the epoch, written as seconds
        ("1969-12-31T23:59:59.999Z", -1),
        ("0001-01-01T00:00:00Z", -62_135_596_800_000),
        ("9999-12-31T23:59:59.999Z", MAX_MS),
    ],
)
def test_every_date_form_is_the_same_instant(value: Any, expected: int) -> None:
    assert to_epoch_ms(value) == expected


def test_seconds_threshold() -> None:
    assert to_epoch_ms(SECONDS_LIMIT - 1) == (SECONDS_LIMIT - 1) * 1000
    assert to_epoch_ms(SECONDS_LIMIT) == SECONDS_LIMIT


@pytest.mark.parametrize(
    "value",
    [
        "2024-02-30",
        "2024-13-01",
        "15/01/2024",
        "2024-01-15 25:00:00",
        "2024-01-15T12:34:56.7891Z",  # finer than a millisecond
        "2024-01-15T12:34:56+24:00",
        "yesterday",
        "",
        1.5,
        float("inf"),
        b"\x00",
        10**16,  # year > 9999 in ms
        "10000-01-01",
    ],
)
def test_bad_dates_are_refused(value: Any) -> None:
    with pytest.raises(BadValue):
        to_epoch_ms(value)


def _spec(name: str) -> Any:
    return next(s for s in table_specs() if s.name == name)


def test_booleans_only_zero_or_one() -> None:
    convert = converter(_spec("universe").column("expired"))
    assert convert(0) is False
    assert convert(1) is True
    for bad in (2, -1, "true", 1.0, None):
        with pytest.raises(BadValue):
            convert(bad)


def test_integers_must_fit_int32() -> None:
    convert = converter(_spec("trades").column("quantity"))
    assert convert(2**31 - 1) == 2**31 - 1
    for bad in (2**31, -(2**31) - 1, 1.5, "3"):
        with pytest.raises(BadValue):
            convert(bad)


def test_text_rules() -> None:
    convert = converter(_spec("accounts").column("name"))
    text = "naïve \"quotes\" 'single' \\ back\\slash\ttab\nnewline\r\n emoji 🎉 中文"
    assert convert(text) == text
    for bad in ("nul\x00inside", b"blob", 5, None):
        with pytest.raises(BadValue):
            convert(bad)


def _random_rows(spec: Any, n: int) -> list[tuple[Any, ...]]:
    import random

    rng = random.Random(3)
    pools: dict[str, list[Any]] = {
        "text": ["x", "", "naïve\t\n\\", "🎉", "a" * 300],
        "int": [0, 1, -5, 2**31 - 1, -(2**31)],
        "float": [*(f for f in TRICKY_FLOATS if math.isfinite(f)), 7, 2**53],
        "bool": [0, 1],
        "datetime": [INSTANT, INSTANT // 1000, "2024-01-15", "2024-01-15T12:34:56.789+02:00"],
        "json": ['{"a": 1}', "[1, 2.50]", '"s"'],
        "enum": ["THIRTEENF", "YAHOO_FINANCE"],
    }
    rows = []
    for rowid in range(n):
        values = []
        for col in spec.columns:
            pool = pools[col.kind] + ([None] if col.nullable else [])
            values.append(rng.choice(pool))
        rows.append((rowid, *values))
    return rows


@pytest.mark.parametrize("name", [s.name for s in table_specs()])
def test_fast_path_equals_reference_path(name: str) -> None:
    """The generated row function converts, encodes and digests exactly like the reference."""
    spec = _spec(name)
    fast = row_function(spec)
    converters = [converter(c) for c in spec.columns]
    renderers = python_renderers(spec)
    for raw in _random_rows(spec, 300):
        data, digest, values = fast(raw)
        expected = [conv(v) for conv, v in zip(converters, raw[1:], strict=True)]
        assert list(values) == expected
        assert digest == row_digest(render_row(renderers, expected))
        assert data[:2] == struct.pack(">h", len(spec.columns))


def test_fast_path_refuses_what_the_reference_refuses() -> None:
    spec = _spec("trades")
    fast = row_function(spec, {"universeId": {"u-1"}, "accountId": {"a-1"}})
    good = ("1", "t", "u-1", "a-1", 1.0, 2.0, INSTANT, 3, None, INSTANT, INSTANT, None, 1)
    fast(good[:1] + good[1:])  # accepted
    for index, bad in [(2, "u-2"), (4, "x"), (7, 2**40), (6, "never"), (1, None), (2, "n\x00")]:
        raw = list(good)
        raw[index] = bad
        with pytest.raises(BadValue):
            fast(tuple(raw))


def test_an_enum_column_takes_only_its_values() -> None:
    spec = _spec("cusip_cache")
    index = spec.column_names.index("source")
    fast = row_function(spec)
    good = ["c-1", "037833100", "AAPL", "THIRTEENF", INSTANT, INSTANT, INSTANT, INSTANT]
    assert fast((1, *good))[2][index] == "THIRTEENF"
    for bad in ("OPENFIGI", "thirteenf", 1, None):
        raw = list(good)
        raw[index] = bad
        with pytest.raises(BadValue):
            fast((1, *raw))
    with pytest.raises(BadValue, match="'OPENFIGI' is not one of THIRTEENF, YAHOO_FINANCE"):
        converter(spec.column("source"))("OPENFIGI")
