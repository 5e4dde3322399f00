"""Fixtures of the database-layer tests: a fresh PostgreSQL database per test.

The TLS and password cluster used by the credential tests lives in :mod:`tests.db.pg_tls`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from rms.settings import Settings, load_settings


@pytest.fixture
def pg_url(create_pg_database: Callable[[], str]) -> str:
    """URL of a brand-new, empty database on the test server (as the superuser)."""
    return create_pg_database()


@pytest.fixture
def pg_settings(pg_url: str) -> Settings:
    """Short retry budgets, so a test that fails does so quickly."""
    return load_settings(
        database_url=pg_url,
        db_cold_start_budget_seconds=5,
        db_retry_initial_backoff_seconds=0.05,
        db_retry_max_backoff_seconds=0.2,
        db_connect_timeout_seconds=3,
    )
