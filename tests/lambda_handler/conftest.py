"""Fixtures: the function configured from its environment, as Lambda would start it.

``lambda_env`` sets the variables the Terraform gives the function (here with a database
URL instead of the IAM login, which needs AWS) and forgets any service a previous test built,
so each test starts a new Lambda environment. ``invoke`` calls the real entry point,
``rms.lambda_handler.handler``, with an HTTP API event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from rms import lambda_handler
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


@pytest.fixture
def database_url(backend: str, backend_urls: dict[str, str], migrated_engines: object) -> str:
    """The test backend's database, at the schema head (a test on SQLite and PostgreSQL)."""
    return backend_urls[backend]


@pytest.fixture
def sqlite_url(backend_urls: dict[str, str], migrated_engines: object) -> str:
    """The suite's SQLite database, at the schema head (tests of the HTTP side only)."""
    return backend_urls["sqlite"]


@pytest.fixture
def invoke() -> Invoke:
    """``invoke("GET", "/api/accounts", headers=...)``: one invocation, its reply."""

    def call(method: str, path: str, **event: Any) -> Reply:
        return Reply(lambda_handler.handler(http_event(method, path, **event), LambdaContext()))

    return call
