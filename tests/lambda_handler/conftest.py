"""Fixtures: the function configured from its environment, as Lambda would start it.

``lambda_env`` sets the variables the Terraform gives the function (here with a database
URL instead of the IAM login, which needs AWS) and forgets any service a previous test built,
so each test starts a new Lambda environment. ``invoke`` calls the real entry point,
``rms.lambda_handler.handler``, with an HTTP API event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from rms import lambda_handler
from rms.db.engine import create_db_engine
from rms.schema.migrations import upgrade
from rms.settings import load_settings
from tests.lambda_handler.events import HOST, PUBLIC_URL, LambdaContext, Reply, http_event

#: The local token the function's tests sign in with (RMS_API_TOKEN).
TOKEN = "lambda-test-token-0123456789abcdef"
BEARER = {"Authorization": f"Bearer {TOKEN}"}

Env = Callable[..., None]
Invoke = Callable[..., Reply]


@pytest.fixture
def lambda_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """Configure the function's environment: ``lambda_env(DATABASE_URL=..., ...)``."""

    def configure(**variables: str) -> None:
        values = {
            "ENVIRONMENT": "dev",
            "RMS_PUBLIC_URL": PUBLIC_URL,
            "RMS_ALLOWED_HOSTS": HOST,
            "RMS_API_TOKEN": TOKEN,
            "REFERENCE_CACHE_TTL_SECONDS": "0",
            **variables,
        }
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    lambda_handler.reset()
    yield configure
    lambda_handler.reset()


def _migrated(url: str) -> str:
    engine = create_db_engine(load_settings(database_url=url))
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def database_url(backend: str, tmp_path: Path, create_pg_database: Callable[[], str]) -> str:
    """A database of its own at the schema head, on the test's backend.

    Its own: the function writes through its own engine and commits, which the suite's
    shared, rolled-back databases must never see.
    """
    if backend == "sqlite":
        return _migrated(f"sqlite:///{tmp_path / 'lambda.db'}")
    return _migrated(create_pg_database())


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database of its own at the schema head (tests of the HTTP side only)."""
    return _migrated(f"sqlite:///{tmp_path / 'lambda-http.db'}")


@pytest.fixture
def invoke() -> Invoke:
    """``invoke("GET", "/api/accounts", headers=...)``: one invocation, its reply."""

    def call(method: str, path: str, **event: Any) -> Reply:
        return Reply(lambda_handler.handler(http_event(method, path, **event), LambdaContext()))

    return call
