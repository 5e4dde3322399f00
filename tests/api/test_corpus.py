"""Hostile and careless requests, on SQLite and PostgreSQL: each gets its documented answer.

Every case names the status it must get, the field the problem must name (when there is
one) and words its detail must hold, so the message tells a person what to fix. No case
may get a 5xx, and the problem ``type`` of every answer resolves to a page of the service.
After a refused write, nothing changed (checked on the rows the cases aim at).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import Api


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    status: int
    field: str | None
    words: tuple[str, ...]
    body: Any = None
    #: Sent as is (with Content-Type: application/json unless ``content_type`` says).
    raw: bytes | None = None
    content_type: str = "application/json"
    params: dict[str, Any] = field(default_factory=dict)


_TRADE = {"accountId": "{empty}", "universeId": "{symbol}", "buy": 10.0, "quantity": 5}
_DAY = {"buy_date": "2024-03-01"}
_DEPOSIT = {"accountId": "{empty}", "divDepositTypeId": "{kind}", "date": "2024-03-01"}


def _trade(**changes: Any) -> dict[str, Any]:
    return {**_TRADE, **_DAY, **changes}


def _raw_trade(fragment: str) -> bytes:
    """A trade body with ``fragment`` spliced in as raw JSON (NaN, 1e400, lone surrogates)."""
    text = json.dumps(_trade())
    return (text[:-1] + ", " + fragment + "}").encode()


CASES = [
    # --- trades: prices, quantities, numbers ------------------------------------------------
    Case("buy 0", "POST", "/api/trades", 422, "buy", ("greater than 0",), _trade(buy=0)),
    Case("buy negative", "POST", "/api/trades", 422, "buy", ("greater than 0",), _trade(buy=-5)),
    Case("buy a word", "POST", "/api/trades", 422, "buy", ("number",), _trade(buy="ten")),
    Case("buy null", "POST", "/api/trades", 422, "buy", ("number",), _trade(buy=None)),
    Case("buy NaN", "POST", "/api/trades", 422, "buy", ("finite",), raw=_raw_trade('"buy": NaN')),
    Case(
        "buy Infinity",
        "POST",
        "/api/trades",
        422,
        "buy",
        ("finite",),
        raw=_raw_trade('"buy": Infinity'),
    ),
    Case(
        "buy 1e400", "POST", "/api/trades", 422, "buy", ("finite",), raw=_raw_trade('"buy": 1e400')
    ),
    Case("buy 1e13", "POST", "/api/trades", 422, "buy", ("less than",), _trade(buy=1e13)),
    Case(
        "quantity 0",
        "POST",
        "/api/trades",
        422,
        "quantity",
        ("greater than or equal to 1",),
        _trade(quantity=0),
    ),
    Case(
        "quantity fraction",
        "POST",
        "/api/trades",
        422,
        "quantity",
        ("integer",),
        _trade(quantity=2.5),
    ),
    Case(
        "quantity huge",
        "POST",
        "/api/trades",
        422,
        "quantity",
        ("less than or equal to 2147483647",),
        _trade(quantity=10**30),
    ),
    # --- JSON types are not coerced (issue 27, item 12) --------------------------------------
    Case(
        "quantity true",
        "POST",
        "/api/trades",
        422,
        "quantity",
        ("integer", "got true"),
        _trade(quantity=True),
    ),
    Case(
        "quantity as text",
        "POST",
        "/api/trades",
        422,
        "quantity",
        ("integer", "'5'"),
        _trade(quantity="5"),
    ),
    Case("buy as text", "POST", "/api/trades", 422, "buy", ("number",), _trade(buy="10")),
    Case("buy true", "POST", "/api/trades", 422, "buy", ("number",), _trade(buy=True)),
    Case(
        "amount false",
        "POST",
        "/api/div-deposits",
        422,
        "amount",
        ("number",),
        {**_DEPOSIT, "amount": False},
    ),
    Case(
        "patch quantity true",
        "PATCH",
        "/api/trades/{open}",
        422,
        "quantity",
        ("integer",),
        {"version": 1, "quantity": True},
    ),
    Case(
        "patch version as text",
        "PATCH",
        "/api/trades/{open}",
        422,
        "version",
        ("integer",),
        {"version": "1", "quantity": 6},
    ),
    Case(
        "expired 1",
        "PATCH",
        "/api/universe/{other_symbol}",
        422,
        "expired",
        ("true or false", "got the number 1"),
        {"version": 1, "expired": 1},
    ),
    # --- trades: selling --------------------------------------------------------------------
    Case(
        "sell without sell_date",
        "POST",
        "/api/trades",
        422,
        "sell_date",
        ("needs its sell_date", "null"),
        _trade(sell=12.0),
    ),
    Case(
        "sell 0 on an open trade",
        "POST",
        "/api/trades",
        422,
        "sell_date",
        ("no sell price",),
        _trade(sell=0),
    ),
    Case(
        "sell_date without sell",
        "POST",
        "/api/trades",
        422,
        "sell",
        ("needs its sell price",),
        _trade(sell_date="2024-04-01"),
    ),
    Case(
        "sold before bought",
        "POST",
        "/api/trades",
        422,
        "sell_date",
        ("2024-02-01", "before the buy_date 2024-03-01"),
        _trade(sell=11.0, sell_date="2024-02-01"),
    ),
    Case(
        "PATCH sell_date before the stored buy_date",
        "PATCH",
        "/api/trades/{closed}",
        422,
        "sell_date",
        ("before the buy_date 2024-03-01",),
        {"version": 1, "sell_date": "2024-01-15"},
    ),
    Case(
        "PATCH a sell price onto an open trade",
        "PATCH",
        "/api/trades/{open}",
        422,
        "sell_date",
        ("needs its sell_date",),
        {"version": 1, "sell": 12.0},
    ),
    Case(
        "PATCH reopening without clearing sell",
        "PATCH",
        "/api/trades/{closed}",
        422,
        "sell_date",
        ("send sell as null",),
        {"version": 1, "sell_date": None},
    ),
    Case(
        "PATCH universeId null",
        "PATCH",
        "/api/trades/{open}",
        422,
        "universeId",
        ("string",),
        {"version": 1, "universeId": None},
    ),
    # --- trades by symbol -------------------------------------------------------------------
    Case(
        "unknown symbol",
        "POST",
        "/api/trades",
        409,
        "symbol",
        ("no symbol 'NOPE'",),
        {**_trade(), "universeId": None, "symbol": "nope"},
    ),
    Case(
        "symbol and another universeId",
        "POST",
        "/api/trades",
        422,
        "symbol",
        ("'PDI'", "send one of the two"),
        {**_trade(), "universeId": "{other_symbol}", "symbol": "PDI"},
    ),
    Case(
        "neither symbol nor universeId",
        "POST",
        "/api/trades",
        422,
        "universeId",
        ("name the symbol",),
        {**_trade(), "universeId": None},
    ),
    Case(
        "trade on a deleted account",
        "POST",
        "/api/trades",
        409,
        "accountId",
        ("no accounts row",),
        _trade(accountId="{deleted_account}"),
    ),
    Case(
        "PATCH trade onto an unknown account",
        "PATCH",
        "/api/trades/{open}",
        409,
        "accountId",
        ("no accounts row with id 'nobody'",),
        {"version": 1, "accountId": "nobody"},
    ),
    # --- deposits ---------------------------------------------------------------------------
    Case(
        "dividend of -13",
        "POST",
        "/api/div-deposits",
        422,
        "amount",
        ("dividend", "more than 0"),
        {**_DEPOSIT, "amount": -13, "universeId": "{symbol}"},
    ),
    Case(
        "deposit of 0",
        "POST",
        "/api/div-deposits",
        422,
        "amount",
        ("must not be 0", "withdrawal"),
        {**_DEPOSIT, "amount": 0},
    ),
    Case(
        "PATCH a withdrawal into a dividend",
        "PATCH",
        "/api/div-deposits/{withdrawal}",
        422,
        "amount",
        ("dividend", "more than 0"),
        {"version": 1, "universeId": "{symbol}"},
    ),
    # --- deleting what is in use ------------------------------------------------------------
    Case(
        "delete an account with an open trade",
        "DELETE",
        "/api/accounts/{busy}",
        409,
        "id",
        ("still has 2 open trades", "{open}", "{renamed}"),
    ),
    Case(
        "delete a symbol with open trades",
        "DELETE",
        "/api/universe/{symbol}",
        409,
        "id",
        ("open trades", "close or delete them first"),
    ),
    # --- dates in every wrong form ----------------------------------------------------------
    Case(
        "filter day in year 9999",
        "GET",
        "/api/trades",
        422,
        "buy_date_to",
        ("between 1900-01-01 and 2199-12-31",),
        params={"buy_date_to": "9999-12-31"},
    ),
    Case(
        "filter day without zero padding",
        "GET",
        "/api/trades",
        422,
        "sell_date_from",
        ("YYYY-MM-DD",),
        params={"sell_date_from": "2024-1-5"},
    ),
    Case(
        "filter day as a word",
        "GET",
        "/api/holidays",
        422,
        "date_from",
        ("YYYY-MM-DD",),
        params={"date_from": "yesterday"},
    ),
    Case(
        "filter day that does not exist",
        "GET",
        "/api/div-deposits",
        422,
        "date_to",
        ("not a real date", "YYYY-MM-DD"),
        params={"date_to": "2023-02-29"},
    ),
    Case(
        "month 13",
        "GET",
        "/api/summary",
        422,
        "month",
        ("YYYY-MM", "month 13"),
        params={"month": "2024-13"},
    ),
    Case(
        "month as a name",
        "GET",
        "/api/summary",
        422,
        "month",
        ("YYYY-MM",),
        params={"month": "March"},
    ),
    Case(
        "month with a day",
        "GET",
        "/api/summary",
        422,
        "month",
        ("YYYY-MM",),
        params={"month": "2024-03-01"},
    ),
    Case(
        "month in year 2200",
        "GET",
        "/api/summary",
        422,
        "month",
        ("2199-12",),
        params={"month": "2200-01"},
    ),
    Case(
        "two-digit year",
        "GET",
        "/api/summary/graph",
        422,
        "year",
        ("YYYY", "1900 to 2199"),
        params={"year": "24"},
    ),
    Case(
        "year 3000",
        "GET",
        "/api/summary/graph",
        422,
        "year",
        ("1900 to 2199",),
        params={"year": "3000"},
    ),
    Case(
        "instant as a Unix time",
        "POST",
        "/api/holidays",
        422,
        "date",
        ("YYYY-MM-DD", "the number 1704153600"),
        {"name": "Unix", "date": 1704153600},
    ),
    Case(
        "instant as digits",
        "POST",
        "/api/holidays",
        422,
        "date",
        ("YYYY-MM-DD", "'20240201'"),
        {"name": "Digits", "date": "20240201"},
    ),
    Case(
        "instant written the US way",
        "POST",
        "/api/holidays",
        422,
        "date",
        ("YYYY-MM-DD",),
        {"name": "US", "date": "07/04/2024"},
    ),
    Case(
        "instant on February 30th",
        "POST",
        "/api/holidays",
        422,
        "date",
        ("not a real date",),
        {"name": "Never", "date": "2024-02-30"},
    ),
    Case(
        "instant at hour 25",
        "POST",
        "/api/holidays",
        422,
        "date",
        ("not a real date or time",),
        {"name": "Late", "date": "2024-02-03T25:00:00Z"},
    ),
    Case(
        "instant in year 9999",
        "POST",
        "/api/trades",
        422,
        "buy_date",
        ("between 1900-01-01 and 2199-12-31",),
        _trade(buy_date="9999-12-31"),
    ),
    Case(
        "instant in 1899",
        "POST",
        "/api/trades",
        422,
        "buy_date",
        ("between 1900-01-01 and 2199-12-31",),
        _trade(buy_date="1899-12-31"),
    ),
    # --- text the database cannot store -----------------------------------------------------
    Case(
        "setting holding a lone surrogate",
        "POST",
        "/api/settings",
        422,
        "value",
        ("lone surrogate",),
        raw=b'{"key": "ui.name", "value": "\\ud800x"}',
    ),
    Case(
        "setting key of an object holding a lone surrogate",
        "POST",
        "/api/settings",
        422,
        "value",
        ("lone surrogate",),
        raw=b'{"key": "ui.map", "value": {"\\udfff": 1}}',
    ),
    Case(
        "setting nested 40 deep",
        "POST",
        "/api/settings",
        422,
        "value",
        ("nested too deeply",),
        raw=b'{"key": "deep", "value": ' + b"[" * 40 + b"]" * 40 + b"}",
    ),
    Case(
        "setting with a huge integer",
        "POST",
        "/api/settings",
        422,
        "value",
        ("integer too large",),
        {"key": "big", "value": 2**60},
    ),
    Case(
        "name holding a lone surrogate",
        "POST",
        "/api/accounts",
        422,
        "name",
        ("Unicode",),
        raw=b'{"name": "a\\udc00b"}',
    ),
    Case("name holding NUL", "POST", "/api/accounts", 422, "name", ("NUL",), {"name": "a\u0000b"}),
    Case("empty name", "POST", "/api/accounts", 422, "name", ("empty",), {"name": ""}),
    Case("blank name", "POST", "/api/accounts", 422, "name", ("blank",), {"name": "   \t "}),
    Case(
        "id with a space",
        "POST",
        "/api/accounts",
        422,
        "id",
        ("letters, digits",),
        {"id": "my account", "name": "Spaced"},
    ),
    # --- bodies that are not JSON, or not the right JSON --------------------------------------
    Case("broken JSON", "POST", "/api/accounts", 400, "body", ("not valid JSON",), raw=b'{"n": ,}'),
    Case(
        "form body",
        "POST",
        "/api/accounts",
        400,
        "body",
        ("Content-Type: application/json",),
        raw=b"name=x",
        content_type="application/x-www-form-urlencoded",
    ),
    Case("no body", "POST", "/api/accounts", 400, "body", ("no body",), raw=b""),
    Case("array body", "POST", "/api/accounts", 422, "body", ("JSON object",), raw=b"[1, 2]"),
    Case(
        "unknown field",
        "POST",
        "/api/accounts",
        422,
        "colour",
        ("not a field",),
        {"name": "x", "colour": "red"},
    ),
    Case(
        "PATCH of createdAt",
        "PATCH",
        "/api/accounts/{empty}",
        422,
        "createdAt",
        ("read-only",),
        {"version": 1, "createdAt": "2024-01-01"},
    ),
    Case(
        "PATCH of id",
        "PATCH",
        "/api/accounts/{empty}",
        422,
        "id",
        ("read-only",),
        {"version": 1, "id": "other"},
    ),
    # --- versions and ids -------------------------------------------------------------------
    Case(
        "PATCH without a version",
        "PATCH",
        "/api/accounts/{empty}",
        422,
        "version",
        ("required",),
        {"name": "x"},
    ),
    Case(
        "PATCH with version 0",
        "PATCH",
        "/api/accounts/{empty}",
        422,
        "version",
        ("greater than or equal to 1",),
        {"version": 0, "name": "x"},
    ),
    Case(
        "PATCH with a word for a version",
        "PATCH",
        "/api/accounts/{empty}",
        422,
        "version",
        ("integer",),
        {"version": "latest", "name": "x"},
    ),
    Case(
        "PATCH with a stale version",
        "PATCH",
        "/api/trades/{renamed}",
        409,
        "version",
        ("at version 2", "for version 1"),
        {"version": 1, "quantity": 7},
    ),
    Case(
        "DELETE with version -1",
        "DELETE",
        "/api/accounts/{empty}",
        422,
        "version",
        ("greater than or equal to 1",),
        params={"version": -1},
    ),
    Case("id holding NUL", "GET", "/api/accounts/a%00b", 422, "key", ("NUL",)),
    Case(
        "unknown id",
        "GET",
        "/api/accounts/nobody-here",
        404,
        "id",
        ("'nobody-here'", "does not exist"),
    ),
    # --- filters with wrong values ----------------------------------------------------------
    Case(
        "status maybe",
        "GET",
        "/api/trades",
        422,
        "status",
        ("'open' or 'closed'",),
        params={"status": "maybe"},
    ),
    Case(
        "limit 0",
        "GET",
        "/api/trades",
        422,
        "limit",
        ("greater than or equal to 1",),
        params={"limit": 0},
    ),
    Case("limit a word", "GET", "/api/trades", 422, "limit", ("integer",), params={"limit": "all"}),
    Case(
        "unknown parameter",
        "GET",
        "/api/trades",
        422,
        "acount_id",
        ("not a parameter",),
        params={"acount_id": "x"},
    ),
    Case(
        "include_deleted perhaps",
        "GET",
        "/api/accounts",
        422,
        "include_deleted",
        ("boolean",),
        params={"include_deleted": "perhaps"},
    ),
    Case(
        "CUSIP source unknown",
        "GET",
        "/api/cusip-cache",
        422,
        "source",
        ("'THIRTEENF' or 'YAHOO_FINANCE'",),
        params={"source": "GUESS"},
    ),
    Case(
        "CUSIP too short",
        "POST",
        "/api/cusip-cache",
        422,
        "cusip",
        ("at least 9",),
        {"cusip": "123", "symbol": "T", "source": "THIRTEENF"},
    ),
]


@pytest.fixture
def rows(api: Api, client: TestClient) -> dict[str, str]:
    """The rows the cases aim at; ``{name}`` in a case's path or body is one of their ids."""
    group = api.risk_group("Income")
    symbol = api.symbol(group["id"], "PDI")
    other = api.symbol(group["id"], "PTY")
    busy, empty, gone = api.account("Busy"), api.account("Empty"), api.account("Gone")
    kind = api.deposit_type()
    common = {"universeId": symbol["id"], "buy": 10.0, "quantity": 5, "buy_date": "2024-03-01"}
    opened = api.create("trades", accountId=busy["id"], **common)
    closed = api.create(
        "trades", accountId=empty["id"], sell=11.0, sell_date="2024-04-01", **common
    )
    renamed = api.create("trades", accountId=busy["id"], **common)
    patched = client.patch(f"/api/trades/{renamed['id']}", json={"version": 1, "quantity": 6})
    assert patched.status_code == 200, patched.text
    withdrawal = api.create(
        "div-deposits",
        accountId=empty["id"],
        divDepositTypeId=kind["id"],
        date="2024-03-02",
        amount=-50.0,
    )
    assert client.delete(f"/api/accounts/{gone['id']}").status_code == 200
    return {
        "symbol": symbol["id"],
        "other_symbol": other["id"],
        "busy": busy["id"],
        "empty": empty["id"],
        "deleted_account": gone["id"],
        "kind": kind["id"],
        "open": opened["id"],
        "closed": closed["id"],
        "renamed": renamed["id"],
        "withdrawal": withdrawal["id"],
    }


def _fill(value: Any, rows: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, row_id in rows.items():
            value = value.replace("{" + name + "}", row_id)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, rows) for k, v in value.items()}
    return value


def _snapshot(client: TestClient) -> dict[str, Any]:
    """Every row the cases could touch (soft-deleted ones included)."""
    every = {"include_deleted": True, "limit": 500}
    return {
        resource: client.get(f"/api/{resource}", params=every).json()["items"]
        for resource in ("accounts", "universe", "trades", "div-deposits", "holidays", "settings")
    }


def test_corpus_is_large_and_varied() -> None:
    assert len(CASES) >= 40
    assert len({case.name for case in CASES}) == len(CASES)
    assert {case.status for case in CASES} == {400, 404, 409, 422}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_request_gets_its_documented_answer(
    client: TestClient, rows: dict[str, str], case: Case
) -> None:
    writes = case.method != "GET"
    before = _snapshot(client) if writes else None
    kwargs: dict[str, Any] = {"params": case.params}
    if case.raw is not None:
        kwargs["content"] = _fill(case.raw.decode(), rows).encode()
        kwargs["headers"] = {"content-type": case.content_type} if case.raw else {}
    elif case.body is not None:
        kwargs["json"] = _fill(case.body, rows)
    response = client.request(case.method, _fill(case.path, rows), **kwargs)

    assert response.status_code == case.status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == case.status and problem["title"]
    assert problem.get("field") == case.field, problem
    for word in case.words:
        assert _fill(word, rows) in problem["detail"], (word, problem["detail"])
    assert "pattern" not in problem["detail"] and "^" not in problem["detail"], problem["detail"]
    page = client.get(problem["type"])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    if writes:
        assert _snapshot(client) == before  # refused: nothing was written
