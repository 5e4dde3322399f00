"""The rules the data obeys, through the API, on SQLite and PostgreSQL.

The refusals themselves are in test_corpus.py; these tests follow rows through their life:
open and closed trades (and what the column holds), trades by symbol, deletes refused while
open trades remain, rows the rules would refuse today that were written before them, and
the documentation of all this (OpenAPI schema, problem pages).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update

from rms.db.database import Database
from rms.errors import InUseError, InvalidInputError
from rms.http.problems import PROBLEM_TYPES
from rms.schema.tables import Trade
from tests.api.conftest import Api


@pytest.fixture
def book(api: Api) -> dict[str, Any]:
    group = api.risk_group("Income")
    return {
        "group": group,
        "symbol": api.symbol(group["id"], "PDI"),
        "account": api.account("Taxable"),
        "kind": api.deposit_type(),
    }


def _trade(api: Api, book: dict[str, Any], **extra: Any) -> dict[str, Any]:
    body = {
        "accountId": book["account"]["id"],
        "universeId": book["symbol"]["id"],
        "buy": 10.0,
        "quantity": 5,
        "buy_date": "2024-03-01",
        **extra,
    }
    return api.create("trades", **body)


def _stored_sell(db: Database, trade_id: str) -> float:
    return db.run(lambda s: s.scalar(select(Trade.sell).where(Trade.id == trade_id)))  # type: ignore[no-any-return]


def test_open_trade_has_no_sell_price_and_stores_zero(
    client: TestClient, api: Api, book: dict[str, Any], db: Database
) -> None:
    trade = _trade(api, book)
    assert trade["sell"] is None and trade["sell_date"] is None
    assert _stored_sell(db, trade["id"]) == 0.0  # the application's NOT NULL column

    closed = client.patch(
        f"/api/trades/{trade['id']}",
        json={"version": 1, "sell": 12.5, "sell_date": "2024-03-01T20:00:00Z"},  # same day
    )
    assert closed.status_code == 200, closed.text
    assert closed.json()["sell"] == 12.5 and _stored_sell(db, trade["id"]) == 12.5

    moved = client.patch(
        f"/api/trades/{trade['id']}", json={"version": 2, "buy_date": "2024-02-01"}
    )
    assert moved.status_code == 200 and moved.json()["sell"] == 12.5

    reopened = client.patch(
        f"/api/trades/{trade['id']}", json={"version": 3, "sell": None, "sell_date": None}
    )
    assert reopened.status_code == 200, reopened.text
    assert reopened.json()["sell"] is None and _stored_sell(db, trade["id"]) == 0.0
    assert client.get("/api/trades", params={"status": "open"}).json()["total"] == 1


def test_sell_price_left_by_an_older_writer_is_ignored_while_open(
    client: TestClient, api: Api, book: dict[str, Any], db: Database
) -> None:
    """The application's own files hold open trades with a sell value (e.g. 220.0)."""
    trade = _trade(api, book)
    db.run(lambda s: s.execute(update(Trade).where(Trade.id == trade["id"]).values(sell=220.0)))
    assert client.get(f"/api/trades/{trade['id']}").json()["sell"] is None
    # A change to another field keeps the trade valid, and leaves the column alone.
    patched = client.patch(f"/api/trades/{trade['id']}", json={"version": 1, "quantity": 6})
    assert patched.status_code == 200, patched.text
    assert _stored_sell(db, trade["id"]) == 220.0


def test_trade_by_symbol(client: TestClient, api: Api, book: dict[str, Any]) -> None:
    trade = _trade(api, book, universeId=None, symbol=" pdi ")
    assert trade["universeId"] == book["symbol"]["id"]
    # The same create by id is a replay of it: the one row, not a conflict.
    again = client.post(
        "/api/trades",
        json={
            "id": trade["id"],
            "accountId": book["account"]["id"],
            "universeId": book["symbol"]["id"],
            "buy": 10.0,
            "quantity": 5,
            "buy_date": "2024-03-01",
        },
    )
    assert again.status_code == 201 and again.json() == trade

    other = api.symbol(book["group"]["id"], "PTY")
    moved = client.patch(f"/api/trades/{trade['id']}", json={"version": 1, "symbol": "PTY"})
    assert moved.status_code == 200 and moved.json()["universeId"] == other["id"]

    client.patch(f"/api/trades/{trade['id']}", json={"version": 2, "symbol": "PDI"})
    assert client.delete(f"/api/universe/{other['id']}").status_code == 200
    refused = client.post(
        "/api/trades",
        json={
            "accountId": book["account"]["id"],
            "symbol": "PTY",
            "buy": 1.0,
            "quantity": 1,
            "buy_date": "2024-03-01",
        },
    )
    assert refused.status_code == 409 and refused.json()["field"] == "symbol"


def test_account_with_open_trades_cannot_be_deleted(
    client: TestClient, api: Api, book: dict[str, Any]
) -> None:
    account = book["account"]["id"]
    trades = [_trade(api, book) for _ in range(3)]
    refused = client.delete(f"/api/accounts/{account}")
    assert refused.status_code == 409, refused.text
    problem = refused.json()
    assert problem["type"] == "/problems/in-use" and problem["title"] == "Still in use"
    assert problem["blocking"] == {
        "resource": "open trades",
        "count": 3,
        "ids": sorted(t["id"] for t in trades),
    }
    assert client.get(f"/api/accounts/{account}").status_code == 200

    # Closed trades and soft-deleted ones do not block: they are history.
    client.patch(
        f"/api/trades/{trades[0]['id']}",
        json={"version": 1, "sell": 11.0, "sell_date": "2024-04-01"},
    )
    client.delete(f"/api/trades/{trades[1]['id']}")
    assert client.delete(f"/api/accounts/{account}").json()["blocking"]["count"] == 1
    client.delete(f"/api/trades/{trades[2]['id']}")
    deleted = client.delete(f"/api/accounts/{account}")
    assert deleted.status_code == 200 and deleted.json()["deletedAt"] is not None

    # A closed trade on the deleted account cannot be reopened there.
    reopen = client.patch(
        f"/api/trades/{trades[0]['id']}", json={"version": 2, "sell": None, "sell_date": None}
    )
    assert reopen.status_code == 409 and reopen.json()["field"] == "accountId"


def test_symbol_with_open_trades_cannot_be_deleted_and_the_answer_is_bounded(
    client: TestClient, api: Api, book: dict[str, Any]
) -> None:
    many = InUseError.SHOWN + 5
    for _ in range(many):
        _trade(api, book)
    refused = client.delete(f"/api/universe/{book['symbol']['id']}")
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["blocking"]["count"] == many
    assert len(problem["blocking"]["ids"]) == InUseError.SHOWN
    assert f"still has {many} open trades" in problem["detail"]
    assert "and 5 more" in problem["detail"]


def test_deposits_and_withdrawals(client: TestClient, api: Api, book: dict[str, Any]) -> None:
    common = {"accountId": book["account"]["id"], "divDepositTypeId": book["kind"]["id"]}
    withdrawal = api.create("div-deposits", date="2024-03-01", amount=-250.0, **common)
    assert withdrawal["amount"] == -250.0
    dividend = api.create(
        "div-deposits", date="2024-03-02", amount=13.0, universeId=book["symbol"]["id"], **common
    )
    refused = client.patch(
        f"/api/div-deposits/{dividend['id']}", json={"version": 1, "amount": -13.0}
    )
    assert refused.status_code == 422 and "dividend" in refused.json()["detail"]
    # Without its symbol it is a plain deposit, which may be negative.
    moved = client.patch(
        f"/api/div-deposits/{dividend['id']}",
        json={"version": 1, "amount": -13.0, "universeId": None},
    )
    assert moved.status_code == 200, moved.text
    summary = client.get("/api/summary", params={"month": "2024-03"}).json()
    assert summary["deposits"] == -263.0 and summary["dividends"] == 0.0


def test_patch_of_a_name_is_held_to_the_create_rules(client: TestClient, api: Api) -> None:
    account = api.account("Named")
    for bad in ("", "   ", "a\u0000b"):
        response = client.patch(f"/api/accounts/{account['id']}", json={"version": 1, "name": bad})
        assert response.status_code == 422 and response.json()["field"] == "name", response.text
    assert client.get(f"/api/accounts/{account['id']}").json()["name"] == "Named"


def test_a_stored_lone_surrogate_reads_as_a_replacement_character(
    client: TestClient, db: Database, backend: str
) -> None:
    """Rows written before the input rules (or by another program) still read, never 500."""
    row = {
        "key": "legacy",
        "value": "\ud800x",
        "createdAt": "2024-01-01",
        "updatedAt": "2024-01-01",
        "version": 1,
    }
    statement = text(
        'INSERT INTO settings (key, value, "createdAt", "updatedAt", version) '
        "VALUES (:key, :value, :createdAt, :updatedAt, :version)"
    )
    # The JSON text the driver would send: the surrogate spelled as an escape, in ASCII.
    params = {**row, "value": '"\\ud800x"'}
    if backend == "postgresql":
        # PostgreSQL refuses such a value outright, so no row can hold one there.
        with pytest.raises(InvalidInputError, match="type json"):
            db.run(
                lambda s: s.execute(
                    text(statement.text.replace(":value", "CAST(:value AS jsonb)")), params
                )
            )
        return
    db.run(lambda s: s.execute(statement, params))
    db.run(
        lambda s: s.execute(
            text(
                'INSERT INTO accounts (id, name, "createdAt", "updatedAt", version) '
                "VALUES ('raw', CAST(X'61EDA08062' AS TEXT), '2024-01-01', '2024-01-01', 1)"
            )
        )
    )
    listed = client.get("/api/settings")
    assert listed.status_code == 200 and listed.json()["items"][0]["value"] == "\ufffdx"
    assert client.get("/api/settings/legacy").json()["value"] == "\ufffdx"
    # TEXT holding the bytes of a lone surrogate (not UTF-8) reads too.
    assert client.get("/api/accounts/raw").json()["name"] == "a\ufffd\ufffd\ufffdb"
    assert client.get("/api/accounts").status_code == 200


def test_openapi_schema_states_the_rules(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    trade = schemas["TradeCreate"]
    assert trade["properties"]["buy"]["exclusiveMinimum"] == 0
    assert trade["properties"]["quantity"]["minimum"] == 1
    assert "symbol" in trade["properties"] and "universeId" not in trade["required"]
    for words in ("`sell` and `sell_date` are set together", "not before `buy_date`"):
        assert words in trade["description"]
    assert "not before `buy_date`" in schemas["TradeUpdate"]["description"]
    assert {"type": "null"} in schemas["Trade"]["properties"]["sell"]["anyOf"]
    amount = schemas["DivDepositCreate"]["properties"]["amount"]
    assert amount["not"] == {"const": 0} and "withdrawal" in amount["description"]
    conflict = document["paths"]["/api/accounts/{key}"]["delete"]["responses"]["409"]
    assert "open trades" in conflict["description"]
    problem = conflict["content"]["application/problem+json"]["schema"]
    assert "blocking" in problem["properties"] and "/problems/" in problem["description"]
    assert schemas["Account"]["properties"]["name"] == {"title": "Name", "type": "string"}


def test_every_problem_type_has_a_page(client: TestClient) -> None:
    index = client.get("/problems")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    for problem in PROBLEM_TYPES.values():
        assert f'href="{problem.uri}"' in index.text
        page = client.get(problem.uri)
        assert page.status_code == 200, problem.slug
        assert problem.title in page.text and "<script" not in page.text
        assert "What to do" in page.text
    rules = client.get("/problems/invalid-input").text
    assert "sell_date is not before buy_date" in rules and "YYYY-MM-DD" in rules
    missing = client.get("/problems/no-such-thing")
    assert missing.status_code == 404 and missing.json()["type"] == "/problems/not-found"


def test_unknown_route_problem_type_resolves(client: TestClient) -> None:
    problem = client.get("/api/nothing-here").json()
    assert problem["type"] == "/problems/not-found"
    assert client.get(problem["type"]).status_code == 200


def test_risk_group_named_by_live_symbols_cannot_be_deleted(client: TestClient, api: Api) -> None:
    group = api.risk_group()["id"]
    symbol = api.symbol(group)
    refused = client.delete(f"/api/risk-groups/{group}")
    assert refused.status_code == 409, refused.text
    assert refused.json()["blocking"] == {"resource": "symbols", "count": 1, "ids": [symbol["id"]]}
    # A deleted symbol does not block.
    assert client.delete(f"/api/universe/{symbol['id']}").status_code == 200
    assert client.delete(f"/api/risk-groups/{group}").status_code == 200
