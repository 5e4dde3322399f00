"""An account's holdings on both engines, against a plain-Python computation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import insert

from rms.db.database import Database
from rms.repo.holdings import account_holdings
from rms.schema.tables import Account, DivDeposit, Trade, Universe
from rms.schema.types import utcnow
from rms.seed import seed_reference

YEAR = 2025


def _day(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# symbol -> (last price, distribution, distributions per year)
SYMBOLS = {"AAA": (10.0, 0.1, 12), "BBB": (20.0, 0.5, 4), "CCC": (0.0, 0.2, 12)}
# (id, symbol, account, quantity, buy, buy date, sell, sell date, deleted)
TRADES: list[tuple[str, str, str, int, float, str, float, str | None, bool]] = [
    ("t1", "AAA", "a", 100, 9.5, "2024-03-04", 0.0, None, False),
    ("t2", "AAA", "a", 50, 10.25, "2025-01-06", 0.0, None, False),
    ("t3", "AAA", "a", 30, 8.0, "2023-05-01", 9.1, "2025-02-03", False),
    ("t4", "BBB", "a", 10, 21.0, "2022-01-03", 19.0, "2024-06-03", False),
    ("t5", "BBB", "a", 7, 18.3, "2024-07-01", 0.0, None, False),
    ("t6", "CCC", "a", 40, 5.0, "2024-02-01", 0.0, None, False),
    ("t7", "AAA", "b", 999, 1.0, "2024-02-01", 0.0, None, False),  # another account
    ("t8", "BBB", "a", 5, 1.0, "2024-02-01", 0.0, None, True),  # deleted
]
# (id, symbol or None, account, amount, date, deleted)
DEPOSITS: list[tuple[str, str | None, str, float, str, bool]] = [
    ("d1", "AAA", "a", 10.1, "2025-01-31", False),
    ("d2", "AAA", "a", 10.2, "2024-12-31", False),  # last year
    ("d3", "BBB", "a", 3.3, "2025-03-31", False),
    ("d4", None, "a", 1000.0, "2025-03-31", False),  # a deposit, not income
    ("d5", "AAA", "a", 99.0, "2025-04-30", True),  # deleted
    ("d6", "AAA", "b", 77.0, "2025-04-30", False),  # another account
]


def _load(db: Database) -> None:
    now = utcnow()
    common = {"createdAt": now, "updatedAt": now, "version": 1}

    def work(session: Any) -> None:
        seed_reference(session, [])
        session.execute(
            insert(Account), [{**common, "id": i, "name": f"Acct {i}"} for i in ("a", "b")]
        )
        session.execute(
            insert(Universe),
            [
                {
                    **common,
                    "id": f"u-{s}",
                    "symbol": s,
                    "last_price": p,
                    "distribution": d,
                    "distributions_per_year": n,
                    "risk_group_id": "rg-income",
                }
                for s, (p, d, n) in SYMBOLS.items()
            ],
        )
        session.execute(
            insert(Trade),
            [
                {
                    **common,
                    "id": i,
                    "universeId": f"u-{s}",
                    "accountId": a,
                    "quantity": q,
                    "buy": b,
                    "buy_date": _day(bd),
                    "sell": sp,
                    "sell_date": _day(sd) if sd else None,
                    "deletedAt": now if gone else None,
                }
                for i, s, a, q, b, bd, sp, sd, gone in TRADES
            ],
        )
        session.execute(
            insert(DivDeposit),
            [
                {
                    **common,
                    "id": i,
                    "universeId": f"u-{s}" if s else None,
                    "accountId": a,
                    "amount": amount,
                    "date": _day(day),
                    "divDepositTypeId": "ddt-dividend" if s else "ddt-deposit",
                    "deletedAt": now if gone else None,
                }
                for i, s, a, amount, day, gone in DEPOSITS
            ],
        )

    db.run(work, write=True)


def _expected(account: str) -> dict[str, dict[str, Any]]:
    """The same figures, by hand: plain loops over the lists above."""
    result: dict[str, dict[str, Any]] = {}
    for _, s, a, q, b, _bd, sp, sd, gone in TRADES:
        if a != account or gone:
            continue
        price, dist, per_year = SYMBOLS[s]
        r = result.setdefault(
            s,
            {
                "basis": 0.0,
                "unrealised": 0.0,
                "realised": 0.0,
                "this_year": 0.0,
                "income": 0.0,
                "yearly": 0.0,
                "unpriced": 0,
            },
        )
        if sd is None:
            r["basis"] += b * q
            r["yearly"] += dist * per_year * q
            if price > 0:
                r["unrealised"] += (price - b) * q
            else:
                r["unpriced"] += 1
        else:
            r["realised"] += (sp - b) * q
            if sd.startswith(str(YEAR)):
                r["this_year"] += (sp - b) * q
    for _, paid_by, a, amount, day, gone in DEPOSITS:
        if paid_by and a == account and not gone and day.startswith(str(YEAR)):
            result[paid_by]["income"] += amount
    return result


def test_holdings_agree_with_a_plain_computation(db: Database) -> None:
    _load(db)
    got = db.run(lambda s: account_holdings(s, "a", YEAR))
    expected = _expected("a")
    assert [t.symbol for t in got.symbols] == sorted(expected)
    for totals in got.symbols:
        want, f = expected[totals.symbol], totals.figures
        assert f.cost_basis == pytest.approx(round(want["basis"], 2), abs=0.005)
        assert f.unrealised_gain == pytest.approx(round(want["unrealised"], 2), abs=0.005)
        assert f.realised_gain == pytest.approx(round(want["realised"], 2), abs=0.005)
        assert f.realised_this_year == pytest.approx(round(want["this_year"], 2), abs=0.005)
        assert f.income_this_year == pytest.approx(round(want["income"], 2), abs=0.005)
        assert f.unpriced_lots == want["unpriced"]
        if want["basis"]:
            assert f.yield_on_cost == pytest.approx(want["yearly"] / want["basis"], rel=1e-6)
        else:
            assert f.yield_on_cost is None
    total = got.total
    for key, name in [
        ("basis", "cost_basis"),
        ("unrealised", "unrealised_gain"),
        ("realised", "realised_gain"),
        ("this_year", "realised_this_year"),
        ("income", "income_this_year"),
    ]:
        want_total = round(sum(r[key] for r in expected.values()), 2)
        assert getattr(total, name) == pytest.approx(want_total, abs=0.005)
    assert total.yield_on_cost == pytest.approx(
        sum(r["yearly"] for r in expected.values()) / sum(r["basis"] for r in expected.values())
    )
    # Hand-checked anchors: AAA's open basis is 950 + 512.50, its sale 30 x 1.10 this year.
    aaa = next(t for t in got.symbols if t.symbol == "AAA")
    assert (aaa.figures.cost_basis, aaa.figures.realised_this_year) == (1462.5, 33.0)
    assert [lot.trade_id for lot in aaa.open_lots] == ["t1", "t2"]
    assert [lot.trade_id for lot in aaa.sold_lots] == ["t3"]
    ccc = next(t for t in got.symbols if t.symbol == "CCC")
    assert ccc.figures.unpriced_lots == 1 and ccc.open_lots[0].unrealised_gain is None


def test_an_account_with_nothing_has_empty_totals(db: Database) -> None:
    _load(db)
    db.run(
        lambda s: s.execute(
            insert(Account),
            [
                {
                    "id": "c",
                    "name": "Empty",
                    "createdAt": utcnow(),
                    "updatedAt": utcnow(),
                    "version": 1,
                }
            ],
        ),
        write=True,
    )
    got = db.run(lambda s: account_holdings(s, "c", YEAR))
    assert got.symbols == [] and got.total.cost_basis == 0 and got.total.yield_on_cost is None
