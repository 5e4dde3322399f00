"""Selling a lot through the API, whole or in part (``POST /api/trades/{id}/sell``)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import Api


def _lot(api: Api, quantity: int = 100) -> dict[str, Any]:
    group = api.risk_group()
    symbol = api.symbol(group["id"])
    account = api.account()
    return api.create(
        "trades",
        accountId=account["id"],
        universeId=symbol["id"],
        buy=10.0,
        quantity=quantity,
        buy_date="2025-03-03",
    )


def test_selling_part_of_a_lot_splits_it(client: TestClient, api: Api) -> None:
    lot = _lot(api)
    sale = {"version": 1, "quantity": 60, "sell": 12.5, "sell_date": "2025-04-01", "id": "s-1"}
    answer = client.post(f"/api/trades/{lot['id']}/sell", json=sale)
    assert answer.status_code == 200, answer.text
    sold, remaining = answer.json()["sold"], answer.json()["remaining"]
    assert (sold["id"], sold["quantity"], sold["sell"], sold["buy"]) == ("s-1", 60, 12.5, 10.0)
    assert sold["buy_date"] == lot["buy_date"] and sold["accountId"] == lot["accountId"]
    assert (remaining["id"], remaining["quantity"], remaining["sell"]) == (lot["id"], 40, None)
    assert remaining["version"] == 2
    # The same request again (a retry whose answer was lost) changes nothing more.
    again = client.post(f"/api/trades/{lot['id']}/sell", json=sale)
    assert again.status_code == 200 and again.json()["sold"]["id"] == "s-1"
    trades = client.get(f"/api/trades?account_id={lot['accountId']}").json()["items"]
    assert sorted(t["quantity"] for t in trades) == [40, 60]


def test_selling_the_whole_lot_closes_it(client: TestClient, api: Api) -> None:
    lot = _lot(api, 10)
    answer = client.post(
        f"/api/trades/{lot['id']}/sell",
        json={"version": 1, "sell": 11.0, "sell_date": "2025-04-01"},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["remaining"] is None
    assert (body["sold"]["id"], body["sold"]["quantity"], body["sold"]["sell"]) == (
        lot["id"],
        10,
        11.0,
    )


def test_a_sale_is_refused_naming_its_field(client: TestClient, api: Api) -> None:
    lot = _lot(api, 10)
    url = f"/api/trades/{lot['id']}/sell"
    too_many = client.post(
        url, json={"version": 1, "quantity": 11, "sell": 1.0, "sell_date": "2025-04-01"}
    )
    assert too_many.status_code == 422 and too_many.json()["field"] == "quantity"
    early = client.post(
        url, json={"version": 1, "quantity": 5, "sell": 1.0, "sell_date": "2025-01-01"}
    )
    assert early.status_code == 422 and early.json()["field"] == "sell_date"
    stale = client.post(
        url, json={"version": 7, "quantity": 5, "sell": 1.0, "sell_date": "2025-04-01"}
    )
    assert stale.status_code == 409 and stale.json()["field"] == "version"
    # Nothing of the refused sales was written.
    trades = client.get(f"/api/trades?account_id={lot['accountId']}").json()["items"]
    assert [(t["quantity"], t["version"], t["sell"]) for t in trades] == [(10, 1, None)]
