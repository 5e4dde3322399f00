"""Fixtures of the fault tests: a migrated database and a fault proxy in front of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from rms.devtools.aurora_sim import AuroraSim
from tests.faults.harness import fault_proxy


@pytest.fixture
def proxy(pg_migrated: str) -> Iterator[AuroraSim]:
    """A fault proxy (no pausing) in front of :func:`pg_migrated`."""
    with fault_proxy(pg_migrated) as sim:
        yield sim
