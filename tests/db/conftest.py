"""Fixtures of the database-layer tests: a fresh PostgreSQL database per test.

(Reconstructed: the original of this file was overwritten by mistake; these are the
fixtures the tests in this directory use.) The TLS and password cluster used by the
credential tests lives in :mod:`tests.db.pg_tls`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import make_url

from rms.settings import Settings, load_settings


def libpq(url: str) -> str:
    """A SQLAlchemy URL as a libpq connection string psycopg accepts."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def pg_url(create_pg_database: Callable[[], str]) -> str:
    """URL of a brand-new, empty database on the test server (as the superuser)."""
    return create_pg_database()


@pytest.fixture
def pg_settings(pg_url: str) -> Settings:
    return load_settings(database_url=pg_url)
