"""Fixtures for the cost model tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rms.cost.pricing import BUILTIN_TABLE, RegionPricing, load_builtin_pricing

DATA = Path(__file__).resolve().parents[2] / "src" / "rms" / "cost" / "data" / BUILTIN_TABLE


@pytest.fixture
def prices() -> RegionPricing:
    """The built-in us-east-1 prices (the ARCHITECTURE.md figures)."""
    return load_builtin_pricing().region("us-east-1")


@pytest.fixture
def pricing_document() -> dict[str, Any]:
    """A fresh copy of the built-in table as decoded JSON, for tests to break."""
    return json.loads(DATA.read_text(encoding="utf-8"))


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials so no test can ever reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
