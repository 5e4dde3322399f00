"""The canonical rendering of rows: what both directions' checksums are computed over."""

from __future__ import annotations

import struct

import pytest

from rms.transfer.digest import canonical_json, python_renderers
from rms.transfer.spec import table_specs

TRICKY_FLOATS = [
    0.1 + 0.2,
    1e-300,
    5e-324,
    -0.0,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    2.2250738585072014e-308,
    123456789.12345679,
    float("inf"),
    float("-inf"),
]


@pytest.mark.parametrize("value", TRICKY_FLOATS)
def test_floats_render_as_their_bits(value: float) -> None:
    universe = next(s for s in table_specs() if s.name == "universe")
    (rendered,) = python_renderers(universe)[1:2]
    assert rendered(value) == struct.pack(">d", value).hex()


def test_json_canonical_form_ignores_spacing_and_key_order() -> None:
    assert canonical_json('{"b": 1.50, "a": [1, 2]}') == canonical_json('{"a":[1,2],"b":1.5}')
    assert canonical_json('{"a": 1}') != canonical_json('{"a": "1"}')
