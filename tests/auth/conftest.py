"""Sign-in fixtures: a real OIDC issuer on loopback, and apps that trust it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from rms.app import create_app
from rms.auth import Authenticator
from rms.auth.oidc import OidcProvider
from rms.schema.head import create_head_schema
from rms.settings import Settings, load_settings
from tests.api.conftest import BASE_URL
from tests.auth.issuer import CLIENT_ID, Issuer, running_issuer


def head_sqlite_url(path: Path) -> str:
    """A SQLite file at the schema head (sessions need their table), as a database URL."""
    url = f"sqlite:///{path}"
    if not path.exists():
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                create_head_schema(conn)
        finally:
            engine.dispose()
    return url


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with running_issuer() as running:
        yield running


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def make_oidc_app(issuer: Issuer, clock: Clock, tmp_path: Path) -> Callable[..., FastAPI]:
    """Apps on a SQLite file (at the schema head) that trust ``issuer``."""

    def make(**overrides: Any) -> FastAPI:
        values: dict[str, Any] = {
            "database_url": head_sqlite_url(tmp_path / "oidc.db"),
            "auth_oidc_issuer": issuer.url,
            "auth_oidc_audience": CLIENT_ID,
            **overrides,
        }
        settings: Settings = load_settings(**values)
        provider = OidcProvider(settings, clock=clock)
        return create_app(
            settings, authenticator=Authenticator(settings, oidc=provider, clock=clock)
        )

    return make


def client_of(app: FastAPI, **kwargs: Any) -> TestClient:
    return TestClient(
        app, base_url=kwargs.pop("base_url", BASE_URL), raise_server_exceptions=False, **kwargs
    )
