"""Portfolio summaries against hand-computed figures, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Api


@pytest.fixture
def portfolio(api: Api) -> dict[str, Any]:
    income, equities = api.risk_group("Income"), api.risk_group("Equities")
    one, two = api.account(), api.account()
    pdi = api.symbol(income["id"], "PDI")
    bst = api.symbol(equities["id"], "BST")
    kind = api.deposit_type()

    def trade(
        account: dict[str, Any],
        symbol: dict[str, Any],
        buy: float,
        sell: float | None,
        quantity: int,
        buy_date: str,
        sell_date: str | None = None,
    ) -> None:
        api.create(
            "trades",
            accountId=account["id"],
            universeId=symbol["id"],
            buy=buy,
            sell=sell,
            quantity=quantity,
            buy_date=buy_date,
            sell_date=sell_date,
        )

    def money(account: dict[str, Any], date: str, amount: float, symbol: str | None = None) -> None:
        api.create(
            "div-deposits",
            accountId=account["id"],
            divDepositTypeId=kind["id"],
            date=date,
            amount=amount,
            universeId=symbol,
        )

    # March 2024: two sales (one per account), one sale on the last millisecond of March.
    trade(one, pdi, 10.0, 12.5, 100, "2024-01-05", "2024-03-10")  # +250
    trade(two, bst, 30.0, 27.0, 10, "2024-02-01", "2024-03-31T23:59:59.999Z")  # -30
    trade(one, bst, 20.0, 25.0, 4, "2024-02-01", "2024-04-01")  # April: +20
    # Open positions.
    trade(one, pdi, 11.0, None, 50, "2024-03-20")  # Income 550
    trade(two, bst, 31.5, None, 10, "2024-01-15")  # Equities 315
    trade(two, pdi, 9.0, None, 10, "2024-05-01")  # bought after March
    money(one, "2024-03-01", 1000.0)
    money(two, "2024-03-15", 500.0)
    money(one, "2024-04-01", 99.0)
    money(one, "2024-03-28", 41.25, pdi["id"])
    money(two, "2024-03-28", 8.75, bst["id"])
    money(one, "2024-02-28", 40.0, pdi["id"])
    return {"one": one, "two": two}


def test_month_summary(client: TestClient, portfolio: dict[str, Any]) -> None:
    body = client.get("/api/summary", params={"month": "2024-03"}).json()
    assert body["deposits"] == pytest.approx(1500.0)
    assert body["dividends"] == pytest.approx(50.0)
    assert body["capital_gains"] == pytest.approx(220.0)
    assert body["open_cost_basis"] == pytest.approx({"Income": 550.0, "Equities": 315.0})
    assert body["open_cost_basis_total"] == pytest.approx(865.0)


def test_month_summary_for_one_account(client: TestClient, portfolio: dict[str, Any]) -> None:
    account = portfolio["one"]["id"]
    body = client.get("/api/summary", params={"month": "2024-03", "account_id": account}).json()
    assert body["account_id"] == account
    assert (body["deposits"], body["dividends"], body["capital_gains"]) == pytest.approx(
        (1000.0, 41.25, 250.0)
    )
    assert body["open_cost_basis"] == pytest.approx({"Income": 550.0})


def test_soft_deleted_rows_do_not_count(
    client: TestClient, api: Api, portfolio: dict[str, Any]
) -> None:
    rows = client.get(
        "/api/div-deposits",
        params={"kind": "deposit", "date_from": "2024-03-15", "date_to": "2024-03-15"},
    ).json()["items"]
    client.delete(f"/api/div-deposits/{rows[0]['id']}")
    body = client.get("/api/summary", params={"month": "2024-03"}).json()
    assert body["deposits"] == pytest.approx(1000.0)


def test_year_graph(client: TestClient, portfolio: dict[str, Any]) -> None:
    body = client.get("/api/summary/graph", params={"year": 2024}).json()
    months = {m["month"]: m for m in body["months"]}
    assert list(months) == [f"2024-{m:02d}" for m in range(1, 13)]
    assert months["2024-02"] == {
        "month": "2024-02",
        "deposits": 0.0,
        "dividends": 40.0,
        "capital_gains": 0.0,
    }
    assert (
        months["2024-03"]["deposits"],
        months["2024-03"]["dividends"],
        months["2024-03"]["capital_gains"],
    ) == pytest.approx((1500.0, 50.0, 220.0))
    assert months["2024-04"]["capital_gains"] == pytest.approx(20.0)
    assert months["2024-04"]["deposits"] == pytest.approx(99.0)
    one = client.get(
        "/api/summary/graph", params={"year": 2024, "account_id": portfolio["two"]["id"]}
    ).json()
    assert {m["month"]: m["capital_gains"] for m in one["months"]}["2024-03"] == pytest.approx(-30)


def test_empty_periods_are_zero(client: TestClient, portfolio: dict[str, Any]) -> None:
    body = client.get("/api/summary", params={"month": "1999-01"}).json()
    assert (body["deposits"], body["dividends"], body["capital_gains"]) == (0.0, 0.0, 0.0)
    assert body["open_cost_basis"] == {}


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("/api/summary", {"month": "2024-13"}, 422, "month"),
        ("/api/summary", {"month": "March"}, 422, "month"),
        ("/api/summary", {}, 422, "month"),
        ("/api/summary", {"month": "2024-01", "account_id": "nobody"}, 404, "id"),
        ("/api/summary/graph", {"year": 1800}, 422, "year"),
        ("/api/summary/graph", {"year": "soon"}, 422, "year"),
    ],
)
def test_bad_summary_requests(
    client: TestClient, path: str, params: dict[str, Any], status: int, field: str
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status
    assert response.json()["field"] == field


def test_totals_are_rounded_to_the_cent(client: TestClient, api: Api) -> None:
    account, kind = api.account(), api.deposit_type()
    for amount in (0.1, 0.2):
        api.create(
            "div-deposits",
            accountId=account["id"],
            divDepositTypeId=kind["id"],
            date="2031-01-05",
            amount=amount,
        )
    body = client.get("/api/summary", params={"month": "2031-01"}).json()
    assert body["deposits"] == 0.3  # not 0.30000000000000004
