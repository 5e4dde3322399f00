"""Hostile and careless requests, on SQLite and PostgreSQL: each gets its documented answer.

Every case names the status it must get, the field the problem must name (when there is
one) and words its detail must hold, so the message tells a person what to fix. No case
may get a 5xx, and the problem ``type`` of every answer resolves to a page of the service.
After a refused write, nothing changed (checked on the rows the cases aim at).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as default
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Connection, Engine

from rms.app import create_app
from rms.db.database import Database
from rms.settings import Settings, load_settings
from tests.api.conftest import BASE_URL, Api, signed_in_client
from tests.auth.conftest import head_sqlite_url
from tests.rms_cli import run_rms


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
    params: dict[str, Any] = default(default_factory=dict)


_TRADE = {"accountId": "{empty}", "universeId": "{symbol}", "buy": 10.0, "quantity": 5}
_DAY = {"buy_date": "2024-03-01"}
_DEPOSIT = {"accountId": "{empty}", "divDepositTypeId": "{kind}", "date": "2024-03-01"}


def _trade(**changes: Any) -> dict[str, Any]:
    return {**_TRADE, **_DAY, **changes}


def _symbol(**changes: Any) -> dict[str, Any]:
    """A new symbol's body (a name no row has) with ``changes``."""
    body = {
        "symbol": "NEWT",
        "distribution": 0.1,
        "distributions_per_year": 12,
        "last_price": 10.0,
        "risk_group_id": "{group}",
    }
    return {**body, **changes}


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
    Case(
        "sell as text",
        "POST",
        "/api/trades",
        422,
        "sell",
        ("number", "'12.5'"),
        _trade(sell="12.5", sell_date="2024-04-01"),
    ),
    Case(
        "sell true",
        "POST",
        "/api/trades",
        422,
        "sell",
        ("number",),
        _trade(sell=True, sell_date="2024-04-01"),
    ),
    Case(
        "patch buy false",
        "PATCH",
        "/api/trades/{open}",
        422,
        "buy",
        ("number",),
        {"version": 1, "buy": False},
    ),
    Case(
        "dividend amount as text",
        "POST",
        "/api/div-deposits",
        422,
        "amount",
        ("number", "'13'"),
        {**_DEPOSIT, "amount": "13", "universeId": "{symbol}"},
    ),
    Case(
        "deposit amount true",
        "POST",
        "/api/div-deposits",
        422,
        "amount",
        ("number",),
        {**_DEPOSIT, "amount": True},
    ),
    Case(
        "patch amount as text",
        "PATCH",
        "/api/div-deposits/{withdrawal}",
        422,
        "amount",
        ("number",),
        {"version": 1, "amount": "-5"},
    ),
    Case(
        "symbol last_price true",
        "POST",
        "/api/universe",
        422,
        "last_price",
        ("number",),
        _symbol(last_price=True),
    ),
    Case(
        "symbol distribution as text",
        "POST",
        "/api/universe",
        422,
        "distribution",
        ("number",),
        _symbol(distribution="0.1"),
    ),
    Case(
        "symbol distributions_per_year true",
        "POST",
        "/api/universe",
        422,
        "distributions_per_year",
        ("integer",),
        _symbol(distributions_per_year=True),
    ),
    Case(
        "symbol distributions_per_year as text",
        "POST",
        "/api/universe",
        422,
        "distributions_per_year",
        ("integer", "'12'"),
        _symbol(distributions_per_year="12"),
    ),
    Case(
        "closed-end fund yes",
        "POST",
        "/api/universe",
        422,
        "is_closed_end_fund",
        ("true or false",),
        _symbol(is_closed_end_fund="yes"),
    ),
    Case(
        "patch expired as text",
        "PATCH",
        "/api/universe/{other_symbol}",
        422,
        "expired",
        ("true or false",),
        {"version": 1, "expired": "true"},
    ),
    Case(
        "patch last_price as text",
        "PATCH",
        "/api/universe/{other_symbol}",
        422,
        "last_price",
        ("number",),
        {"version": 1, "last_price": "11"},
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
        "group": group["id"],
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


# --- issue 27: what a careless user does around sign-in, probes and the command line ---------
#
# Each table below holds requests (or commands) of one item of issue 27; each row would get
# another answer without that item's defence. No row may get a 5xx, and every refusal names
# its field or reason.

_EVIL = "http://evil.example"
_OWN = {"Origin": BASE_URL}


def _problem(response: Response, status: int, field: str | None, *words: str) -> dict[str, Any]:
    """``response`` is the problem ``status`` naming ``field``, its detail holding ``words``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status and problem.get("field") == field, problem
    for word in words:
        assert word in problem["detail"], (word, problem["detail"])
    return problem


# Item 2: where the sign-in URL's ``next`` may send the browser: a same-site path, re-encoded.
REDIRECTS = [
    ("tab before a host", "/\t/evil.example", "/"),
    ("encoded tab before a host", "/%09/evil.example", "/"),
    ("newline before a host", "/\n/evil.example", "/"),
    ("backslash", "/\\evil.example", "/"),
    ("encoded backslash", "/%5Cevil.example", "/"),
    ("two backslashes", "\\\\evil.example", "/"),
    ("absolute URL", "https://evil.example/accounts", "/"),
    ("scheme-relative URL", "//evil.example", "/"),
    ("encoded slashes", "/%2F%2Fevil.example", "/evil.example"),
    ("javascript", "javascript:alert(1)", "/"),
    ("space in the path", "/accounts /x", "/"),
    ("climbing out", "/a/../../evil.example", "/evil.example"),
    ("a page with a query", "/accounts?view=all", "/accounts?view=all"),
    ("non-ASCII path", "/konten/ä", "/konten/%C3%A4"),
]


@pytest.mark.parametrize(
    ("asked", "target"), [r[1:] for r in REDIRECTS], ids=[r[0] for r in REDIRECTS]
)
def test_the_sign_in_url_sends_the_browser_to_a_same_site_page(
    app: FastAPI, anon_client: TestClient, asked: str, target: str
) -> None:
    token = app.state.auth.local.value
    by_url = anon_client.get(
        "/auth/token", params={"token": token, "next": asked}, follow_redirects=False
    )
    assert by_url.status_code == 303, by_url.text
    assert by_url.headers["Location"] == target
    by_form = anon_client.post(
        "/auth/token", data={"token": token, "next": asked}, headers=_OWN, follow_redirects=False
    )
    assert by_form.status_code == 303, by_form.text
    assert by_form.headers["Location"] == target


# Item 3: with sign-in off, a request not from this service's own pages is refused (403).
# ``form`` rows post an HTML form (``{csrf}``: the token of the account's page).
@dataclass(frozen=True)
class Forged:
    name: str
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None = None
    form: dict[str, str] | None = None


_DEPOSIT_FORM = {"kind": "deposit", "amount": "-99999", "date": "2024-05-06"}
FORGED = [
    Forged("API write without Origin", "POST", "/api/accounts", {}, {"name": "Planted"}),
    Forged(
        "API write from another site", "POST", "/api/accounts", {"Origin": _EVIL}, {"name": "P"}
    ),
    Forged(
        "API write from origin null", "POST", "/api/accounts", {"Origin": "null"}, {"name": "P"}
    ),
    Forged(
        "API write with a foreign Referer",
        "POST",
        "/api/accounts",
        {"Referer": f"{_EVIL}/page"},
        {"name": "P"},
    ),
    Forged(
        "API write from another port",
        "POST",
        "/api/accounts",
        {"Origin": "http://localhost:8081"},
        {"name": "P"},
    ),
    Forged(
        "API write from a look-alike host",
        "POST",
        "/api/accounts",
        {"Origin": "http://localhost.evil.example"},
        {"name": "P"},
    ),
    Forged(
        "API delete from another site", "DELETE", "/api/trades/{open}?version=1", {"Origin": _EVIL}
    ),
    Forged(
        "API patch from another site",
        "PATCH",
        "/api/accounts/{empty}",
        {"Origin": _EVIL},
        {"version": 1, "name": "Renamed"},
    ),
    Forged(
        "form with its token from another site",
        "POST",
        "/accounts/{busy}/deposits",
        {"Origin": _EVIL},
        form={**_DEPOSIT_FORM, "csrf": "{csrf}"},
    ),
    Forged(
        "form without Origin",
        "POST",
        "/accounts/{busy}/deposits",
        {},
        form={**_DEPOSIT_FORM, "csrf": "{csrf}"},
    ),
    Forged("form without its token", "POST", "/accounts/{busy}/deposits", _OWN, form=_DEPOSIT_FORM),
    Forged(
        "form with an empty token",
        "POST",
        "/accounts/{busy}/deposits",
        _OWN,
        form={**_DEPOSIT_FORM, "csrf": ""},
    ),
    Forged(
        "form with a forged token",
        "POST",
        "/accounts/{busy}/deposits",
        _OWN,
        form={**_DEPOSIT_FORM, "csrf": "forged"},
    ),
    Forged(
        "delete form without its token",
        "POST",
        "/trades/{open}/delete",
        _OWN,
        form={"version": "1"},
    ),
]


@pytest.fixture
def off_client(
    settings: Settings, engine: Engine, connection: Connection, rows: dict[str, str]
) -> Iterator[TestClient]:
    """An app with sign-in off on loopback, on the test's transaction (after ``rows``)."""
    off = create_app(
        settings.model_copy(update={"rms_auth": "off"}),
        db=Database(engine, bind=connection),
        bind_host="127.0.0.1",
    )
    with TestClient(off, base_url=BASE_URL, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize("case", FORGED, ids=[case.name for case in FORGED])
def test_with_sign_in_off_a_request_from_elsewhere_is_refused(
    client: TestClient, off_client: TestClient, rows: dict[str, str], case: Forged
) -> None:
    before = _snapshot(client)
    path = _fill(case.path, rows)
    if case.form is None:
        response = off_client.request(
            case.method, path, json=case.body, headers=case.headers, follow_redirects=False
        )
        _problem(response, 403, "Origin", "this service's own pages")
    else:
        page = off_client.get(f"/accounts/{rows['busy']}", headers={"Accept": "text/html"})
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token is not None, page.text
        form = {k: v.replace("{csrf}", token.group(1)) for k, v in case.form.items()}
        headers = {**case.headers, "Accept": "text/html"}
        response = off_client.post(path, data=form, headers=headers, follow_redirects=False)
        assert response.status_code == 403, response.text
        assert "did not come from this site" in response.text or "own pages" in response.text
    assert _snapshot(client) == before  # refused: nothing was written
    # The owner's own pages still write with sign-in off (the refusal was the check's).
    own = off_client.post("/api/accounts", json={"name": "Owner's"}, headers=_OWN)
    assert own.status_code == 201, own.text


# Item 4: invented methods and paths sent to open paths; /metrics keeps its label sets.
INVENTED = [
    ("FOO", "/health/live", 'method="FOO"'),
    ("PROPFIND", "/health/ready", 'method="PROPFIND"'),
    ("BREW", "/auth/login", 'method="BREW"'),
    ("M-SEARCH", "/auth/token", 'method="M-SEARCH"'),
    ("TRACE", "/static/app.css", 'method="TRACE"'),
    ("X" * 200, "/health/live", "X" * 200),
    ("GET", "/health/live/../../etc/passwd", "passwd"),
    ("GET", "/static/no-such-file-17.css", "no-such-file-17"),
]


@pytest.mark.parametrize(
    ("method", "path", "label"), INVENTED, ids=[f"{m[:12]} {p}" for m, p, _ in INVENTED]
)
def test_invented_methods_and_paths_grow_no_metric_series(
    client: TestClient, anon_client: TestClient, method: str, path: str, label: str
) -> None:
    def series() -> set[str]:
        text = client.get("/metrics").text
        return {line.split(" ")[0] for line in text.splitlines() if line.startswith("rms_http_")}

    for warm_up in ("WARMUP", "GET"):  # the `other` method and the unmatched route, once
        for open_path in ("/health/live", "/health/ready", "/auth/login", "/auth/token"):
            anon_client.request(warm_up, open_path)
        anon_client.request(warm_up, "/static/warm-up.css")
        anon_client.request(warm_up, "/no/such/warm-up")
    series()
    before = series()
    for _ in range(3):
        response = anon_client.request(method, path)
        assert response.status_code < 500, response.text
        assert response.status_code in (200, 401, 404, 405), response.text
    assert series() == before
    assert label not in client.get("/metrics").text


# Items 7 and 5: Authorization headers of every careless shape answer 401, never 5xx; the
# value reaches no log line and no body; and none of them locks the owner out.
_TOKEN = "{token}"
HEADERS = [
    ("Basic x", "Basic x", "Basic x"),
    ("a bare word", "xyz", "xyz"),
    (
        "Basic with a password",
        "Basic b3duZXI6aHVudGVyMi1wYXNzd29yZA==",
        "b3duZXI6aHVudGVyMi1wYXNzd29yZA",
    ),
    ("the token without Bearer", _TOKEN, _TOKEN),
    ("the token glued to bearer", f"bearer{_TOKEN}", _TOKEN),
    ("the token after Token", f"Token {_TOKEN}", _TOKEN),
    (
        "a pasted JWT",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJvd25lciJ9.c2lnbmF0dXJlLXNlY3JldA",
        "c2lnbmF0dXJlLXNlY3JldA",
    ),
    ("Bearer and nothing", "Bearer", None),
    ("a wrong bearer token", "Bearer not-my-token-4711", "not-my-token-4711"),
]


@pytest.mark.parametrize(
    ("header", "secret"), [r[1:] for r in HEADERS], ids=[r[0] for r in HEADERS]
)
def test_a_malformed_authorization_answers_401_and_is_never_logged(
    app: FastAPI,
    anon_client: TestClient,
    caplog: pytest.LogCaptureFixture,
    header: str,
    secret: str | None,
) -> None:
    token = app.state.auth.local.value
    header, secret = header.replace(_TOKEN, token), secret and secret.replace(_TOKEN, token)
    caplog.set_level(logging.DEBUG)
    for path in ("/api/accounts", "/metrics", "/health"):
        response = anon_client.get(path, headers={"Authorization": header})
        _problem(response, 401, None, "needs a valid credential")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert header not in response.text and (secret is None or secret not in response.text)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "refused GET /api/accounts" in logged  # the refusal is logged, with its reason
    assert secret is None or secret not in logged


CREDENTIAL_LESS = [
    ("bare sign-in URL", "GET", "/auth/token", {}, None),
    ("empty token on the URL", "GET", "/auth/token?token=", {}, None),
    ("empty sign-in form", "POST", "/auth/token", _OWN, {"token": ""}),
    ("blank Authorization", "GET", "/metrics", {"Authorization": "  "}, None),
    ("empty Authorization", "GET", "/api/accounts", {"Authorization": ""}, None),
    ("callback without a code", "GET", "/auth/callback", {}, None),
    ("callback with a stray state", "GET", "/auth/callback?state=x&code=", {}, None),
    ("forged session cookie", "GET", "/api/accounts", {"Cookie": "rms_session=forged"}, None),
]


@pytest.mark.parametrize(
    ("method", "path", "headers", "form"),
    [r[1:] for r in CREDENTIAL_LESS],
    ids=[r[0] for r in CREDENTIAL_LESS],
)
def test_requests_without_a_credential_never_lock_the_owner_out(
    settings: Settings,
    engine: Engine,
    connection: Connection,
    method: str,
    path: str,
    headers: dict[str, str],
    form: dict[str, str] | None,
) -> None:
    limited = settings.model_copy(update={"auth_failure_limit": 2})
    app = create_app(limited, db=Database(engine, bind=connection))
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as anon:
        for _ in range(6):
            response = anon.request(method, path, headers=headers, data=form)
            assert response.status_code == 401, response.text
            assert response.json()["title"].startswith("Sign-in"), response.text
        # Only a presented, wrong credential counts: the first wrong one is not yet over.
        wrong = anon.get("/metrics", headers={"Authorization": "Bearer wrong"})
        assert wrong.status_code == 401, wrong.text
        owner = {"Authorization": f"Bearer {app.state.auth.local.value}"}
        assert anon.get("/metrics", headers=owner).status_code == 200


# Item 6: after sign-out, the old cookie (a copy kept in another tab) signs nothing in.
AFTER_SIGN_OUT = [
    ("API read", "GET", "/api/accounts", {}, 401),
    ("metrics", "GET", "/metrics", {}, 401),
    ("API write", "POST", "/api/accounts", _OWN, 401),
    ("sign out everywhere", "DELETE", "/api/sessions", _OWN, 401),
    ("a page", "GET", "/accounts", {"Accept": "text/html"}, 303),
    ("the probe", "GET", "/health/ready", {}, 200),
]


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [r[1:] for r in AFTER_SIGN_OUT],
    ids=[r[0] for r in AFTER_SIGN_OUT],
)
def test_after_sign_out_the_old_cookie_signs_nothing_in(
    app: FastAPI,
    client: TestClient,
    method: str,
    path: str,
    headers: dict[str, str],
    status: int,
) -> None:
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as browser:
        token = app.state.auth.local.value
        assert browser.get("/auth/token", params={"token": token}).status_code == 200
        cookie = str(browser.cookies["rms_session"])
        assert browser.get("/api/accounts").status_code == 200
        out = browser.post("/auth/logout", headers=_OWN, follow_redirects=False)
        assert out.status_code == 303
    before = _snapshot(client)
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as copied:
        copied.cookies.set("rms_session", cookie)
        body = {"name": "After sign-out"} if method == "POST" else None
        response = copied.request(method, path, headers=headers, json=body, follow_redirects=False)
    assert response.status_code == status, response.text
    if status == 401:
        _problem(response, 401, None, "needs a valid credential")
    elif status == 303:
        assert response.headers["Location"].startswith("/auth/login?next=")
    else:
        assert response.json() == {"status": "ready"}  # what anyone sees, not the details
    assert _snapshot(client) == before


# Item 8: anonymous /health/ready, asked in every way, says its status only.
READY_ASKED = [
    ("plainly", {}, {}),
    ("with a wrong bearer token", {"Authorization": "Bearer wrong"}, {}),
    ("with a bare word", {"Authorization": "xyz"}, {}),
    ("with a forged cookie", {"Cookie": "rms_session=forged"}, {}),
    ("with verbose", {}, {"verbose": "1", "details": "true"}),
    ("as a page", {"Accept": "text/html"}, {}),
]


@pytest.mark.parametrize(
    ("headers", "params"), [r[1:] for r in READY_ASKED], ids=[r[0] for r in READY_ASKED]
)
def test_anonymous_ready_says_its_status_only(
    client: TestClient,
    anon_client: TestClient,
    headers: dict[str, str],
    params: dict[str, str],
) -> None:
    observer = client.app.state.db.observer  # type: ignore[attr-defined]
    observer.failed(
        "auth", 'connection to server at "10.1.2.3", port 5432 failed for user "rms_app"'
    )
    assert "10.1.2.3" in client.get("/health/ready").json()["last_failure"]  # it is there
    response = anon_client.get("/health/ready", headers=headers, params=params)
    assert response.status_code == 503, response.text
    assert response.json() == {"status": "not ready"}
    assert "10.1.2.3" not in response.text and "rms_app" not in response.text


# Item 1: sign-in off and an empty or non-loopback --host: one line, status 2, never listening.
SERVE_HOSTS = [
    ("empty host", ("--host", ""), "--host is empty"),
    ("host=", ("--host=",), "--host is empty"),
    ("blank host", ("--host", " \t"), "--host is empty"),
    ("every IPv4 interface", ("--host", "0.0.0.0"), "RMS_AUTH=off is refused on 0.0.0.0"),
    ("every IPv6 interface", ("--host", "::"), "RMS_AUTH=off is refused on ::"),
    ("a LAN address", ("--host", "192.168.1.20"), "RMS_AUTH=off is refused on 192.168.1.20"),
    ("loopback with a space", ("--host", " 127.0.0.1"), "RMS_AUTH=off is refused on  127.0.0.1"),
    ("a host name", ("--host", "my-laptop"), "RMS_AUTH=off is refused on my-laptop"),
]


@pytest.fixture
def never_listens(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """``uvicorn.run`` replaced: what it would have served is recorded, nothing listens."""
    import uvicorn

    served: list[str] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, host, **kw: served.append(host))
    return served


@pytest.mark.parametrize(
    ("argv", "words"), [r[1:] for r in SERVE_HOSTS], ids=[r[0] for r in SERVE_HOSTS]
)
def test_sign_in_off_serves_on_loopback_only(
    argv: tuple[str, ...],
    words: str,
    never_listens: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("RMS_AUTH", "off")
    monkeypatch.setenv("DATABASE_URL", head_sqlite_url(tmp_path / "serve.db"))
    result = run_rms("serve", *argv, "--port", "8123")
    assert result.exit_code == 2, result.output
    assert len(result.error_lines) == 1 and words in result.error_lines[0], result.stderr
    assert "Traceback" not in result.output
    assert never_listens == []


# Item 11: a typo in a SQLite URL is refused in one line and never made into a database.
TYPOS = [
    ("db health", ("db", "health", "--url", "sqlite:///{tmp}/nope.db")),
    ("db health in a missing directory", ("db", "health", "--url", "sqlite:///{tmp}/typo/rms.db")),
    ("db seed", ("db", "seed", "--url", "sqlite:///{tmp}/nope.db")),
    ("db upgrade without --create", ("db", "upgrade", "--url", "sqlite:///{tmp}/a/b/x.db")),
    ("db health on a relative path", ("db", "health", "--url", "sqlite:///nope.db")),
    ("serve", ("serve", "--port", "8123")),
]


@pytest.mark.parametrize("argv", [r[1] for r in TYPOS], ids=[r[0] for r in TYPOS])
def test_a_missing_sqlite_file_is_refused_in_one_line(
    argv: tuple[str, ...],
    never_listens: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/nope.db")
    before = sorted(tmp_path.rglob("*"))
    result = run_rms(*(arg.replace("{tmp}", str(tmp_path)) for arg in argv))
    assert result.exit_code == 2, result.output
    assert len(result.error_lines) == 1, result.stderr
    assert "no SQLite database at" in result.stderr and "--create" in result.stderr
    assert "Traceback" not in result.output
    assert sorted(tmp_path.rglob("*")) == before  # no file, no directory made
    assert never_listens == []


TYPO_REQUESTS = [
    ("GET", "/api/accounts", None),
    ("GET", "/api/summary?month=2024-03", None),
    ("POST", "/api/accounts", {"name": "Into the void"}),
    ("GET", "/health", None),
]


@pytest.mark.parametrize(
    ("method", "path", "body"), TYPO_REQUESTS, ids=[f"{m} {p}" for m, p, _ in TYPO_REQUESTS]
)
def test_a_configured_sqlite_file_that_is_missing_answers_503(
    tmp_path: Path, method: str, path: str, body: dict[str, str] | None
) -> None:
    missing = tmp_path / "typo.db"
    app = create_app(load_settings(database_url=f"sqlite:///{missing}"))
    with signed_in_client(app) as typo_client:
        response = typo_client.request(method, path, json=body)
        _problem(response, 503, "DATABASE_URL", "no SQLite database at", "typo")
        page = typo_client.get("/accounts", headers={"Accept": "text/html"})
        assert page.status_code == 503
        ready = typo_client.get("/health/ready")
        assert ready.status_code == 503
    assert not missing.exists()
