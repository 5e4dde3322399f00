"""API fixtures: a TestClient over the app bound to the test's rolled-back transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rms.api import create_app
from rms.db.database import Database
from rms.settings import Settings


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    with TestClient(create_app(settings, db=db), raise_server_exceptions=False) as test_client:
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
