"""Fixtures of the fault tests: a migrated database and a fault proxy in front of it."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from rms.db.engine import create_db_engine
from rms.devtools.aurora_sim import AuroraSim
from rms.schema.migrations import upgrade
from rms.settings import load_settings
from tests.faults.harness import fault_proxy


@pytest.fixture
def pg_migrated(create_pg_database: Callable[[], str]) -> str:
    """A fresh database on the suite's server, at the schema head."""
    url = create_pg_database()
    engine = create_db_engine(load_settings(database_url=url))
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture
def proxy(pg_migrated: str) -> Iterator[AuroraSim]:
    """A fault proxy (no pausing) in front of :func:`pg_migrated`."""
    with fault_proxy(pg_migrated) as sim:
        yield sim
