"""The way there and back: SQLite -> ``rms db migrate`` -> changes through the API on
PostgreSQL -> ``rms db export``, and the file equals the database.

Equality is checked by :mod:`tests.export.compare` (plain SQL on both sides, its own rules),
and the service must serve the same portfolio summaries from the file as from PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from bench.gen_sqlite import generate
from fastapi.testclient import TestClient

from rms.app import create_app
from rms.settings import load_settings
from tests.api.conftest import signed_in_client
from tests.export.compare import compare_database_and_file, libpq
from tests.export.conftest import leftovers
from tests.rms_cli import run_rms


@pytest.fixture
def clients(
    create_pg_database: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Path, TestClient]]:
    """A PostgreSQL database migrated from a generated SQLite file, and an API client on it."""
    source = tmp_path / "app.db"
    generate(source, trades=1500, deposits=300, universe=60, seed=11)
    url = create_pg_database()
    migrated = run_rms("db", "migrate", "--from", str(source), "--to", url)
    assert migrated.exit_code == 0, migrated.output
    monkeypatch.setenv("DATABASE_URL", url)
    with signed_in_client(create_app(load_settings(database_url=url))) as client:
        yield url, tmp_path / "back.db", client


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _change_through_the_api(client: TestClient) -> dict[str, Any]:
    """What the owner does on PostgreSQL after the cut-over, through the service."""
    group = _ok(client.get("/api/risk-groups", params={"limit": 1}))["items"][0]
    account = _ok(client.post("/api/accounts", json={"name": "After cut-over ✓"}), 201)
    symbol = _ok(
        client.post(
            "/api/universe",
            json={
                "symbol": "NEWCEF",
                "distribution": 0.1 + 0.2,
                "distributions_per_year": 12,
                "last_price": 12.345678901234567,
                "risk_group_id": group["id"],
                "volatility_long": "0.33",
                "volatility_calculated_at": "2026-11-30T10:11:12.013Z",
            },
        ),
        201,
    )
    kind = _ok(client.get("/api/div-deposit-types", params={"limit": 1}))["items"][0]
    trade = _ok(
        client.post(
            "/api/trades",
            json={
                "accountId": account["id"],
                "universeId": symbol["id"],
                "buy": 10.1,
                "quantity": 300,
                "buy_date": "2026-11-02T14:30:00.123Z",
            },
        ),
        201,
    )
    _ok(
        client.patch(
            f"/api/trades/{trade['id']}",
            json={
                "version": trade["version"],
                "sell": 11.7,
                "sell_date": "2026-11-27T20:59:59.999Z",
            },
        )
    )
    for amount, universe in ((2500.0, None), (33.33, symbol["id"])):
        _ok(
            client.post(
                "/api/div-deposits",
                json={
                    "date": "2026-11-15T00:00:00Z",
                    "amount": amount,
                    "accountId": account["id"],
                    "divDepositTypeId": kind["id"],
                    "universeId": universe,
                },
            ),
            201,
        )
    old = _ok(client.get("/api/trades", params={"limit": 1, "status": "open"}))["items"][0]
    _ok(client.delete(f"/api/trades/{old['id']}", params={"version": old["version"]}))
    for source in ("THIRTEENF", "YAHOO_FINANCE"):
        _ok(
            client.post(
                "/api/cusip-cache",
                json={"cusip": f"12345678{source[0]}", "symbol": "NEWCEF", "source": source},
            ),
            201,
        )
    _ok(
        client.post(
            "/api/settings", json={"key": "ui.theme", "value": {"dark": True, "n": [1, 2.5]}}
        ),
        201,
    )
    return {"account": account["id"]}


def _summaries(client: TestClient, account: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for year in range(2012, 2027):
        out[f"graph {year}"] = _ok(client.get("/api/summary/graph", params={"year": year}))
        out[f"graph {year} {account}"] = _ok(
            client.get("/api/summary/graph", params={"year": year, "account_id": account})
        )
    for month in ("2016-03", "2020-12", "2024-06", "2026-11"):
        out[month] = _ok(client.get("/api/summary", params={"month": month}))
    return out


def test_round_trip(clients: tuple[str, Path, TestClient]) -> None:
    url, target, client = clients
    ids = _change_through_the_api(client)
    exported = run_rms("db", "export", "--to", str(target))
    assert exported.exit_code == 0, exported.output
    assert "rows exported from" in exported.stdout and "and verified" in exported.stdout
    assert compare_database_and_file(url, target) == []
    assert leftovers(target.parent) == []

    with psycopg.connect(libpq(url)) as conn:
        (changed,) = conn.execute(
            "SELECT count(*) FROM trades WHERE \"sell_date\" >= '2026-11-01'"
        ).fetchone()  # type: ignore[misc]
    assert changed == 1  # the change made through the API is in the database (and so the file)

    pg_figures = _summaries(client, ids["account"])
    on_file_app = create_app(load_settings(database_url=f"sqlite:///{target}"))
    with signed_in_client(on_file_app) as on_file:
        file_figures = _summaries(on_file, ids["account"])
        trades = _ok(on_file.get("/api/trades", params={"account_id": ids["account"]}))
    assert file_figures == pg_figures
    november = pg_figures["2026-11"]
    assert november["deposits"] == 2500.0 and november["dividends"] == 33.33
    assert round(november["capital_gains"], 6) == round((11.7 - 10.1) * 300, 6)
    assert (
        sum(
            m["capital_gains"] != 0
            for y in range(2012, 2026)
            for m in pg_figures[f"graph {y}"]["months"]
        )
        > 12
    )
    assert trades == _ok(client.get("/api/trades", params={"account_id": ids["account"]}))
    assert trades["items"][0]["sell_date"].startswith("2026-11-27T20:59:59.999")


def test_the_file_migrates_back_identically(
    clients: tuple[str, Path, TestClient], create_pg_database: Callable[[], str]
) -> None:
    """There and back and there again: migrating the exported file gives the same database."""
    _url, target, client = clients
    _change_through_the_api(client)
    assert run_rms("db", "export", "--to", str(target)).exit_code == 0
    again = create_pg_database()
    assert run_rms("db", "migrate", "--from", str(target), "--to", again).exit_code == 0
    # The one addition: the migration archives the file's _prisma_migrations (the
    # application's bookkeeping, which the export wrote) whole, as it does for any file.
    with sqlite3.connect(target) as lite:
        history = lite.execute('SELECT count(*) FROM "_prisma_migrations"').fetchone()[0]
    with psycopg.connect(libpq(again), autocommit=True) as pg:
        archived = pg.execute(
            "SELECT table_name, count(*) FROM rms_archive GROUP BY table_name"
        ).fetchall()
        assert archived == [("_prisma_migrations", history)]
        pg.execute("DELETE FROM rms_archive WHERE table_name = '_prisma_migrations'")
    assert compare_database_and_file(again, target) == []
