"""API fixtures: TestClients over the app bound to the test's rolled-back transaction.

``client`` is signed in (it sends the app's local token as ``Authorization: Bearer``), so
tests of the API need not care about sign-in; ``anon_client`` sends no credential. Both
talk to the app as ``http://localhost`` (an allowed Host; TestClient's own ``testserver``
is not one).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rms.app import create_app
from rms.db.database import Database
from rms.settings import Settings

BASE_URL = "http://localhost"


def bearer(app: FastAPI) -> dict[str, str]:
    """The Authorization header that signs in to ``app`` with its local token."""
    return {"Authorization": f"Bearer {app.state.auth.local.value}"}


def signed_in_client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url=BASE_URL, headers=bearer(app), raise_server_exceptions=False)


@pytest.fixture
def app(settings: Settings, db: Database) -> FastAPI:
    return create_app(settings, db=db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with signed_in_client(app) as test_client:
        yield test_client


@pytest.fixture
def anon_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as test_client:
        yield test_client


class Api:
    """Small helpers that create the rows other rows refer to."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._n = 0

    def create(self, resource: str, **body: Any) -> dict[str, Any]:
        response = self.client.post(f"/api/{resource}", json=body)
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    def unique(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    def risk_group(self, name: str | None = None) -> dict[str, Any]:
        return self.create("risk-groups", name=name or self.unique("Group "))

    def account(self, name: str | None = None) -> dict[str, Any]:
        return self.create("accounts", name=name or self.unique("Account "))

    def symbol(self, risk_group_id: str, symbol: str | None = None, **extra: Any) -> dict[str, Any]:
        body = {
            "symbol": symbol or self.unique("SYM"),
            "distribution": 0.1,
            "distributions_per_year": 12,
            "last_price": 10.0,
            "risk_group_id": risk_group_id,
            **extra,
        }
        return self.create("universe", **body)

    def deposit_type(self, name: str = "Deposit") -> dict[str, Any]:
        return self.create("div-deposit-types", name=name)


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client)
