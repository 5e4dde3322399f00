"""Fixtures of the Prisma harness tests: the toolchain, the application's PostgreSQL schema."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.prisma.harness import app_schema_sql, push_app_schema
from tests.prisma.toolchain import Toolchain, prisma_toolchain

__all__ = ["prisma_toolchain"]


@pytest.fixture(scope="session")
def app_schema(prisma_toolchain: Toolchain, create_pg_database: Callable[[], str]) -> str:
    """The SQL of the application's PostgreSQL schema, made once per run by Prisma 6.19."""
    return app_schema_sql(create_pg_database(), toolchain=prisma_toolchain)


@pytest.fixture
def app_pg_url(app_schema: str, create_pg_database: Callable[[], str]) -> str:
    """A fresh database holding exactly the application's own PostgreSQL schema, no rows."""
    url = create_pg_database()
    push_app_schema(url, script=app_schema)
    return url
