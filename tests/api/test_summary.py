"""Portfolio summaries against hand-computed figures, on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from rms.db.database import Database
from rms.repo import crud
from rms.repo.resources import RESOURCES
from rms.schema.tables import Trade
from rms.seed import seed_demo, seed_reference
from tests.api.conftest import Api
from tests.demo import DEMO_THROUGH


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
    # Held at the end of March: the open lots bought by then, and the lot sold at the first
    # instant of April (4 x 20.0); not the lots sold in March, nor the one bought in May.
    assert body["open_cost_basis"] == pytest.approx({"Income": 550.0, "Equities": 395.0})
    assert body["open_cost_basis_total"] == pytest.approx(945.0)


def test_month_summary_for_one_account(client: TestClient, portfolio: dict[str, Any]) -> None:
    account = portfolio["one"]["id"]
    body = client.get("/api/summary", params={"month": "2024-03", "account_id": account}).json()
    assert body["account_id"] == account
    assert (body["deposits"], body["dividends"], body["capital_gains"]) == pytest.approx(
        (1000.0, 41.25, 250.0)
    )
    assert body["open_cost_basis"] == pytest.approx({"Income": 550.0, "Equities": 80.0})


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
    assert body["total"] == pytest.approx(
        {"deposits": 1599.0, "dividends": 90.0, "capital_gains": 240.0}
    )
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


def test_a_closed_month_is_unchanged_by_a_later_sale(
    client: TestClient, portfolio: dict[str, Any]
) -> None:
    before = client.get("/api/summary", params={"month": "2024-03"}).json()
    graph_before = client.get("/api/summary/graph", params={"year": 2024}).json()
    lots = client.get("/api/trades", params={"status": "open", "limit": 500}).json()["items"]
    lot = next(t for t in lots if t["buy_date"].startswith("2024-03-20"))
    sold = client.patch(
        f"/api/trades/{lot['id']}",
        json={"version": lot["version"], "sell": 12.0, "sell_date": "2026-12-15"},
    )
    assert sold.status_code == 200, sold.text
    assert client.get("/api/summary", params={"month": "2024-03"}).json() == before
    assert client.get("/api/summary/graph", params={"year": 2024}).json() == graph_before
    december = client.get("/api/summary", params={"month": "2026-12"}).json()
    assert december["capital_gains"] == pytest.approx(50.0)  # (12 - 11) x 50
    assert december["open_cost_basis"]["Income"] == pytest.approx(90.0)  # the other PDI lot
    november = client.get("/api/summary", params={"month": "2026-11"}).json()
    assert november["open_cost_basis"]["Income"] == pytest.approx(640.0)


def test_the_demo_june_2025_is_unchanged_by_a_sale_in_2026(
    client: TestClient, db: Database
) -> None:
    """The issue's example: June 2025's open cost basis moved when a lot was sold now."""
    db.run(lambda s: (seed_reference(s, [2025]), seed_demo(s, through=DEMO_THROUGH)), write=True)
    june = client.get("/api/summary", params={"month": "2025-06"}).json()
    graph = client.get("/api/summary/graph", params={"year": 2025}).json()
    end = datetime(2025, 7, 1, tzinfo=UTC)
    held = db.run(
        lambda s: s.execute(
            select(Trade.id, Trade.version).where(
                Trade.deletedAt.is_(None), Trade.sell_date.is_(None), Trade.buy_date < end
            )
        ).all()
    )
    assert june["open_cost_basis_total"] > 0 and held
    for key, version in held[:3]:
        answer = client.patch(
            f"/api/trades/{key}",
            json={"version": version, "sell": 1.0, "sell_date": "2026-12-01"},
        )
        assert answer.status_code == 200, answer.text
    assert client.get("/api/summary", params={"month": "2025-06"}).json() == june
    assert client.get("/api/summary/graph", params={"year": 2025}).json() == graph


# --- the figures against an independent computation ---------------------------------------

START = datetime(2024, 1, 1, tzinfo=UTC)
#: Times of day that sit on or next to a month's boundary, and one in the middle.
TIMES = [timedelta(0), timedelta(hours=12), timedelta(days=1, milliseconds=-1)]
MONTHS = [(2024 + i // 12, i % 12 + 1) for i in range(24)]


@dataclass(frozen=True)
class Lot:
    account: int
    symbol: int
    buy_cents: int
    quantity: int
    bought: datetime
    sold: datetime | None
    sell_cents: int
    deleted: bool


@dataclass(frozen=True)
class Cash:
    account: int
    symbol: int | None  # a dividend names its symbol; a deposit does not
    cents: int
    date: datetime
    deleted: bool


instants = st.builds(
    lambda day, time: START + timedelta(days=day) + time,
    st.integers(0, 729),
    st.sampled_from(TIMES),
)
lots = st.builds(
    lambda account, symbol, buy, quantity, bought, held, sell, deleted: Lot(
        account,
        symbol,
        buy,
        quantity,
        bought,
        None if held is None else bought + held,
        sell,
        deleted,
    ),
    st.integers(0, 1),
    st.integers(0, 3),
    st.integers(1, 20_000),
    st.integers(1, 500),
    instants,
    st.none()
    | st.builds(timedelta, days=st.integers(0, 500)).flatmap(
        lambda d: st.sampled_from(TIMES).map(lambda t: d + t)
    ),
    st.integers(0, 30_000),
    st.sampled_from([False, False, False, True]),
)
cash = st.builds(
    Cash,
    st.integers(0, 1),
    st.none() | st.integers(0, 3),
    st.integers(-50_000, 50_000).filter(bool),
    instants,
    st.sampled_from([False, False, False, True]),
).map(
    lambda c: c if c.symbol is None else Cash(c.account, c.symbol, abs(c.cents), c.date, c.deleted)
)
portfolios = st.tuples(
    st.lists(st.integers(0, 2), min_size=4, max_size=4),  # each symbol's risk group
    st.lists(lots, max_size=12),
    st.lists(cash, max_size=8),
)


def month_of(instant: datetime) -> tuple[int, int]:
    return instant.year, instant.month


def expected_month(
    groups: list[int],
    lots: list[Lot],
    cash: list[Cash],
    month: tuple[int, int],
    account: int | None,
) -> dict[str, Any]:
    """The month's figures from the definitions, in whole cents, by walking the rows."""
    mine = [x for x in lots if not x.deleted and account in (None, x.account)]
    money = [c for c in cash if not c.deleted and account in (None, c.account)]
    basis: dict[str, int] = {}
    for lot in mine:
        # Held at the end of the month: bought in it or before, sold after it (or never).
        if month_of(lot.bought) <= month and (lot.sold is None or month_of(lot.sold) > month):
            name = f"G{groups[lot.symbol]}"
            basis[name] = basis.get(name, 0) + lot.buy_cents * lot.quantity
    return {
        "deposits": sum(c.cents for c in money if c.symbol is None and month_of(c.date) == month),
        "dividends": sum(
            c.cents for c in money if c.symbol is not None and month_of(c.date) == month
        ),
        "capital_gains": sum(
            (x.sell_cents - x.buy_cents) * x.quantity
            for x in mine
            if x.sold is not None and month_of(x.sold) == month
        ),
        "open_cost_basis": basis,
    }


def in_cents(value: float) -> int:
    return round(value * 100)


def store(db: Database, groups: list[int], lots: list[Lot], cash: list[Cash]) -> list[str]:
    """Writes the portfolio with the repository's own create; returns the account ids."""
    gone = datetime(2030, 1, 1, tzinfo=UTC)

    def write(session: Session) -> None:
        def create(resource: str, **values: Any) -> None:
            crud.create_row(session, RESOURCES[resource], values)

        for n in range(3):
            create("risk-groups", id=f"g{n}", name=f"G{n}")
        for n in range(2):
            create("accounts", id=f"a{n}", name=f"A{n}")
        for n, group in enumerate(groups):
            create(
                "universe",
                id=f"u{n}",
                symbol=f"S{n}",
                distribution=0.1,
                distributions_per_year=12,
                last_price=10.0,
                risk_group_id=f"g{group}",
            )
        create("div-deposit-types", id="k", name="Kind")
        for n, lot in enumerate(lots):
            create(
                "trades",
                id=f"t{n}",
                accountId=f"a{lot.account}",
                universeId=f"u{lot.symbol}",
                buy=lot.buy_cents / 100,
                quantity=lot.quantity,
                buy_date=lot.bought,
                sell_date=lot.sold,
                sell=None if lot.sold is None else lot.sell_cents / 100,
                deletedAt=gone if lot.deleted else None,
            )
        for n, row in enumerate(cash):
            create(
                "div-deposits",
                id=f"d{n}",
                accountId=f"a{row.account}",
                divDepositTypeId="k",
                universeId=None if row.symbol is None else f"u{row.symbol}",
                amount=row.cents / 100,
                date=row.date,
                deletedAt=gone if row.deleted else None,
            )

    db.run(write, write=True)
    return ["a0", "a1"]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    portfolio=portfolios,
    months=st.lists(st.sampled_from(MONTHS), min_size=1, max_size=3, unique=True),
    account=st.sampled_from([None, 0, 1]),
)
def test_figures_match_an_independent_computation(
    client: TestClient,
    db: Database,
    connection: Connection,
    portfolio: tuple[list[int], list[Lot], list[Cash]],
    months: list[tuple[int, int]],
    account: int | None,
) -> None:
    groups, lots_, cash_ = portfolio
    example = connection.begin_nested()  # each example starts from the empty database
    try:
        store(db, groups, lots_, cash_)
        scope = {} if account is None else {"account_id": f"a{account}"}
        for year, number in months:
            month = f"{year:04d}-{number:02d}"
            body = client.get("/api/summary", params={"month": month, **scope}).json()
            want = expected_month(groups, lots_, cash_, (year, number), account)
            got = {
                "deposits": in_cents(body["deposits"]),
                "dividends": in_cents(body["dividends"]),
                "capital_gains": in_cents(body["capital_gains"]),
                "open_cost_basis": {k: in_cents(v) for k, v in body["open_cost_basis"].items()},
            }
            assert got == want, month
            assert in_cents(body["open_cost_basis_total"]) == sum(want["open_cost_basis"].values())
        for year in sorted({y for y, _ in months}):
            graph = client.get("/api/summary/graph", params={"year": year, **scope}).json()
            totals = dict.fromkeys(("deposits", "dividends", "capital_gains"), 0)
            for number, shown in enumerate(graph["months"], start=1):
                want = expected_month(groups, lots_, cash_, (year, number), account)
                for name in totals:
                    assert in_cents(shown[name]) == want[name], (year, number, name)
                    totals[name] += want[name]
            assert {k: in_cents(v) for k, v in graph["total"].items()} == totals
    finally:
        example.rollback()
