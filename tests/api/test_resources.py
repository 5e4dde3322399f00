"""CRUD behaviour shared by every resource, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Api


def _problem(response: Any, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"].startswith("/problems/")
    if field is not None:
        assert body["field"] == field, body
    return body


def test_account_lifecycle(client: TestClient, api: Api) -> None:
    account = api.account("Brokerage")
    assert account["version"] == 1 and account["deletedAt"] is None
    assert len(account["id"]) == 36  # generated UUID

    fetched = client.get(f"/api/accounts/{account['id']}").json()
    assert fetched == account

    updated = client.patch(
        f"/api/accounts/{account['id']}", json={"version": 1, "name": "Taxable"}
    ).json()
    assert updated["name"] == "Taxable" and updated["version"] == 2
    assert updated["updatedAt"] >= account["updatedAt"]

    deleted = client.delete(f"/api/accounts/{account['id']}", params={"version": 2}).json()
    assert deleted["deletedAt"] is not None and deleted["version"] == 3

    _problem(client.get(f"/api/accounts/{account['id']}"), 404, "id")
    assert client.get(f"/api/accounts/{account['id']}?include_deleted=true").status_code == 200
    listed = client.get("/api/accounts").json()
    assert account["id"] not in [row["id"] for row in listed["items"]]
    with_deleted = client.get("/api/accounts", params={"include_deleted": "true"}).json()
    assert account["id"] in [row["id"] for row in with_deleted["items"]]


def test_stale_version_is_409_and_changes_nothing(client: TestClient, api: Api) -> None:
    account = api.account("Original")
    client.patch(f"/api/accounts/{account['id']}", json={"version": 1, "name": "First"})
    body = _problem(
        client.patch(f"/api/accounts/{account['id']}", json={"version": 1, "name": "Second"}),
        409,
        "version",
    )
    assert "version 2" in body["detail"]
    assert client.get(f"/api/accounts/{account['id']}").json()["name"] == "First"
    _problem(client.delete(f"/api/accounts/{account['id']}", params={"version": 1}), 409, "version")
    assert client.get(f"/api/accounts/{account['id']}").json()["deletedAt"] is None


def test_duplicate_name_is_409_naming_the_field(client: TestClient, api: Api) -> None:
    api.account("Same")
    body = _problem(client.post("/api/accounts", json={"name": "Same"}), 409, "name")
    assert "accounts.name" in body["detail"]


def test_unknown_reference_is_409_naming_the_field(client: TestClient, api: Api) -> None:
    account = api.account()
    body = _problem(
        client.post(
            "/api/trades",
            json={
                "universeId": "no-such-symbol",
                "accountId": account["id"],
                "buy": 10,
                "buy_date": "2024-01-02",
                "quantity": 5,
            },
        ),
        409,
        "universeId",
    )
    assert "no-such-symbol" in body["detail"]


def test_reference_to_soft_deleted_row_is_refused(client: TestClient, api: Api) -> None:
    group = api.risk_group()
    client.delete(f"/api/risk-groups/{group['id']}")
    _problem(
        client.post(
            "/api/universe",
            json={
                "symbol": "X",
                "distribution": 1,
                "distributions_per_year": 4,
                "last_price": 2,
                "risk_group_id": group["id"],
            },
        ),
        409,
        "risk_group_id",
    )


def test_client_id_makes_create_idempotent(client: TestClient) -> None:
    body = {"id": "acct-client-1", "name": "Replayed"}
    first = client.post("/api/accounts", json=body)
    second = client.post("/api/accounts", json=body)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert client.get("/api/accounts", params={"name": "Replayed"}).json()["total"] == 1
    _problem(client.post("/api/accounts", json={"id": "acct-client-1", "name": "Other"}), 409, "id")


def test_validation_problems_name_the_field(client: TestClient) -> None:
    body = _problem(client.post("/api/accounts", json={"name": ""}), 422, "name")
    assert body["errors"][0]["field"] == "name"
    _problem(client.post("/api/accounts", json={"name": "a", "colour": "red"}), 422, "colour")
    _problem(client.post("/api/accounts", json={"name": "nul\u0000byte"}), 422, "name")
    _problem(client.post("/api/accounts", content=b"{not json"), 400, "body")
    _problem(client.get("/api/accounts", params={"limit": 0}), 422, "limit")
    _problem(client.get("/api/accounts", params={"typo": 1}), 422, "typo")
    _problem(client.patch("/api/accounts/x", json={"name": "no version"}), 422, "version")


def test_out_of_range_values_are_422(client: TestClient, api: Api) -> None:
    group = api.risk_group()
    base = {
        "symbol": "BIG",
        "distribution": 1,
        "distributions_per_year": 4,
        "last_price": 2,
        "risk_group_id": group["id"],
    }
    _problem(client.post("/api/universe", json={**base, "last_price": "NaN"}), 422, "last_price")
    _problem(client.post("/api/universe", json={**base, "ex_date": "0001-01-01"}), 422, "ex_date")
    _problem(
        client.post("/api/universe", json={**base, "distributions_per_year": 2**40}),
        422,
        "distributions_per_year",
    )


def test_unknown_route_and_method_are_problems(client: TestClient) -> None:
    _problem(client.get("/api/nothing-here"), 404)
    _problem(client.put("/api/accounts"), 405)


def test_pagination_is_stable_and_counts_total(client: TestClient, api: Api) -> None:
    ids = [api.account(f"Page {i:02d}")["id"] for i in range(7)]
    seen: list[str] = []
    for offset in range(0, 7, 3):
        page = client.get("/api/accounts", params={"limit": 3, "offset": offset}).json()
        assert page["total"] == 7 and page["limit"] == 3 and page["offset"] == offset
        seen += [row["id"] for row in page["items"]]
    assert sorted(seen) == sorted(ids)


def test_trade_filters(client: TestClient, api: Api) -> None:
    group = api.risk_group()
    one, two = api.account(), api.account()
    pdi = api.symbol(group["id"], "PDI")
    pty = api.symbol(group["id"], "PTY")

    def trade(account: str, symbol: str, buy_date: str, sell_date: str | None) -> str:
        body = {
            "accountId": account,
            "universeId": symbol,
            "buy": 10,
            "sell": 11 if sell_date else None,
            "buy_date": buy_date,
            "quantity": 5,
            "sell_date": sell_date,
        }
        return str(api.create("trades", **body)["id"])

    open_1 = trade(one["id"], pdi["id"], "2024-01-10", None)
    closed_1 = trade(one["id"], pty["id"], "2024-02-10", "2024-03-15")
    open_2 = trade(two["id"], pdi["id"], "2024-03-01", None)

    def ids(**params: Any) -> set[str]:
        response = client.get("/api/trades", params=params)
        assert response.status_code == 200, response.text
        return {row["id"] for row in response.json()["items"]}

    assert ids(account_id=one["id"]) == {open_1, closed_1}
    assert ids(symbol="pdi") == {open_1, open_2}  # symbols are case-insensitive
    assert ids(status="open") >= {open_1, open_2} and closed_1 not in ids(status="open")
    assert ids(status="closed", account_id=one["id"]) == {closed_1}
    assert ids(buy_date_from="2024-02-01", buy_date_to="2024-03-01") == {closed_1, open_2}
    assert ids(sell_date_from="2024-03-15", sell_date_to="2024-03-15") == {closed_1}


def test_deposit_filters_and_kinds(client: TestClient, api: Api) -> None:
    group = api.risk_group()
    account = api.account()
    symbol = api.symbol(group["id"])
    kind = api.deposit_type()
    common = {"accountId": account["id"], "divDepositTypeId": kind["id"]}
    deposit = api.create("div-deposits", date="2024-05-01", amount=100, **common)["id"]
    dividend = api.create(
        "div-deposits",
        date="2024-05-31T23:59:59.999Z",
        amount=7.5,
        universeId=symbol["id"],
        **common,
    )["id"]
    listed = client.get(
        "/api/div-deposits", params={"kind": "dividend", "account_id": account["id"]}
    )
    assert [row["id"] for row in listed.json()["items"]] == [dividend]
    listed = client.get("/api/div-deposits", params={"kind": "deposit", "date_to": "2024-05-01"})
    assert deposit in [row["id"] for row in listed.json()["items"]]
    listed = client.get(
        "/api/div-deposits", params={"date_from": "2024-05-31", "date_to": "2024-05-31"}
    )
    assert [row["id"] for row in listed.json()["items"]] == [dividend]


def test_timestamps_keep_milliseconds_and_offsets(client: TestClient, api: Api) -> None:
    account = api.account()
    kind = api.deposit_type()
    row = api.create(
        "div-deposits",
        date="2024-05-01T09:30:15.123+02:00",
        amount=1.25,
        accountId=account["id"],
        divDepositTypeId=kind["id"],
    )
    assert row["date"] == "2024-05-01T07:30:15.123000Z"
    assert client.get(f"/api/div-deposits/{row['id']}").json()["date"] == row["date"]


def test_floats_round_trip_exactly(client: TestClient, api: Api) -> None:
    group = api.risk_group()
    value = 0.1 + 0.2  # 0.30000000000000004: a float4 column would lose it
    row = api.symbol(group["id"], distribution=value, last_price=1e-300)
    fetched = client.get(f"/api/universe/{row['id']}").json()
    assert fetched["distribution"] == value and fetched["last_price"] == 1e-300


@pytest.mark.parametrize(
    ("resource", "body"),
    [
        ("holidays", {"date": "2024-07-04", "name": "Independence Day"}),
        ("div-deposit-types", {"name": "Interest"}),
        ("risk-groups", {"name": "Speculative"}),
    ],
)
def test_simple_resources_round_trip(
    client: TestClient, api: Api, resource: str, body: dict[str, Any]
) -> None:
    created = api.create(resource, **body)
    assert client.get(f"/api/{resource}/{created['id']}").json() == created
    patched = client.patch(
        f"/api/{resource}/{created['id']}", json={"version": 1, "name": "Renamed"}
    )
    assert patched.status_code == 200 and patched.json()["name"] == "Renamed"


def test_holiday_dates_are_unique(client: TestClient, api: Api) -> None:
    api.create("holidays", date="2030-12-25", name="Christmas")
    _problem(
        client.post("/api/holidays", json={"date": "2030-12-25", "name": "Again"}), 409, "date"
    )


def test_screener_and_settings(client: TestClient, api: Api) -> None:
    group = api.risk_group()
    entry = api.create(
        "screener",
        symbol="utf",
        distribution=0.155,
        distributions_per_year=12,
        last_price=24.5,
        risk_group_id=group["id"],
    )
    assert entry["symbol"] == "UTF" and "has_volitility" not in entry
    assert client.get("/api/screener", params={"symbol": "UTF"}).json()["total"] == 1
    # The checkboxes left the application's schema (revision 0002 archived their values).
    body = {**{k: entry[k] for k in ("distribution", "distributions_per_year", "last_price")}}
    refused = client.post(
        "/api/screener",
        json={**body, "symbol": "X", "risk_group_id": group["id"], "has_volitility": True},
    )
    _problem(refused, 422, "has_volitility")

    setting = api.create("settings", key="ui.theme", value={"dark": True, "accent": [1, 2]})
    assert setting["key"] == "ui.theme"
    fetched = client.get("/api/settings/ui.theme").json()
    assert fetched["value"] == {"dark": True, "accent": [1, 2]}
    updated = client.patch("/api/settings/ui.theme", json={"version": 1, "value": "light"}).json()
    assert updated["value"] == "light" and updated["version"] == 2
    assert client.get("/api/settings", params={"prefix": "ui."}).json()["total"] == 1
    _problem(client.post("/api/settings", json={"value": 1}), 422, "key")
    _problem(client.post("/api/settings", json={"key": "k", "value": "\u0000"}), 422, "value")


def test_openapi_docs_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    for path in ("/api/accounts", "/api/trades/{key}", "/api/summary", "/api/summary/graph"):
        assert path in schema["paths"]
