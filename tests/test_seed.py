"""Reference data and the demo portfolio: idempotent, believable, on both engines."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from rms.db.database import Database
from rms.repo.summary import month_summary
from rms.schema.tables import (
    Account,
    DivDeposit,
    DivDepositType,
    Holiday,
    RiskGroup,
    Trade,
    Universe,
)
from rms.seed import DEMO_SEED, _demo_rows, seed_demo, seed_reference


def test_reference_seed_is_idempotent(db: Database) -> None:
    first = db.run(lambda s: seed_reference(s, range(2024, 2026)))
    assert first.inserted["risk_group"] == 3 and first.inserted["divDepositType"] == 4
    assert first.inserted["holidays"] >= 18
    second = db.run(lambda s: seed_reference(s, range(2024, 2026)))
    assert second.total == 0
    names = db.run(lambda s: set(s.scalars(select(RiskGroup.name))))
    assert {"Equities", "Income", "Tax Free Income"} <= names
    assert db.run(lambda s: s.scalar(select(func.count()).select_from(DivDepositType))) >= 4


def test_holidays_are_the_nyse_calendar(db: Database) -> None:
    db.run(lambda s: seed_reference(s, [2024]))
    days = db.run(lambda s: {h.date: h.name for h in s.scalars(select(Holiday))})
    assert datetime(2024, 3, 29, tzinfo=UTC) in days  # Good Friday
    assert datetime(2024, 6, 19, tzinfo=UTC) in days  # Juneteenth
    assert datetime(2024, 11, 28, tzinfo=UTC) in days  # Thanksgiving
    assert datetime(2024, 10, 14, tzinfo=UTC) not in days  # Columbus Day: markets open


def test_demo_seed_gives_real_summaries(db: Database) -> None:
    result = db.run(seed_demo)
    assert 200 <= result.inserted["trades"] <= 500
    assert 20 <= result.inserted["universe"] <= 60
    assert db.run(seed_demo).total == 0
    summary = db.run(lambda s: month_summary(s, "2024-06"))
    assert summary.deposits > 0 and summary.dividends > 0 and summary.capital_gains != 0
    assert set(summary.open_cost_basis) == {"Equities", "Income", "Tax Free Income"}
    open_trades = db.run(
        lambda s: s.scalar(select(func.count()).select_from(Trade).where(Trade.sell_date.is_(None)))
    )
    assert open_trades > 0


def _rows_json(rows: dict[Any, list[dict[str, Any]]]) -> str:
    return json.dumps({m.__tablename__: rows[m] for m in rows}, sort_keys=True, default=str)


#: sha256 of ``_rows_json`` of the demo rows as the generator made them before it ran to the
#: seeding day (commit e21866e: ``_demo_rows(random.Random(DEMO_SEED))``, which stopped at
#: 2025-12), computed once with that code; the fixtures were made from those rows.
ROWS_BEFORE_THROUGH = "f0ffec6328f78aed84a3bbc32c0b5e37f4c021d2f64344b2ccdc360a1ba33700"


@pytest.mark.parametrize("through", [date(2025, 12, 28), date(2025, 12, 31)])
def test_the_rows_through_2025_are_those_the_demo_always_had(through: date) -> None:
    rows = _demo_rows(DEMO_SEED, through)
    assert [len(rows[m]) for m in (Account, Universe, Trade, DivDeposit)] == [3, 36, 304, 616]
    assert hashlib.sha256(_rows_json(rows).encode()).hexdigest() == ROWS_BEFORE_THROUGH


def _dates(rows: dict[Any, list[dict[str, Any]]]) -> list[date]:
    days = [t["buy_date"].date() for t in rows[Trade]]
    days += [t["sell_date"].date() for t in rows[Trade] if t["sell_date"] is not None]
    return days + [d["date"].date() for d in rows[DivDeposit]]


THROUGH = [date(2021, 1, 1), date(2022, 7, 9), date(2025, 12, 27), date(2026, 3, 1)]
THROUGH += [date(2026, 12, 7), date(2027, 2, 28)]


@pytest.mark.parametrize("through", THROUGH)
def test_nothing_is_dated_after_through(through: date) -> None:
    rows = _demo_rows(DEMO_SEED, through)
    days = _dates(rows)
    assert max(days, default=through) <= through
    if through >= date(2021, 2, 1):  # a month in: deposits and dividends that month or last
        assert max(days) >= through.replace(day=1) - timedelta(days=31)
    sold_later = [t for t in rows[Trade] if t["sell_date"] is None and t["sell"] != 0.0]
    assert sold_later == []


def test_an_earlier_cut_is_part_of_a_later_one() -> None:
    """A month's draws do not depend on ``through``: the same ids with the same rows, except
    a lot sold after the earlier day, which that cut shows open."""
    later = _demo_rows(DEMO_SEED, date(2027, 6, 30))
    for through in THROUGH:
        earlier = _demo_rows(DEMO_SEED, through)
        for model in (Account, Universe, DivDeposit):
            assert all(row in later[model] for row in earlier[model]), (through, model)
        by_id = {t["id"]: t for t in later[Trade]}
        for trade in earlier[Trade]:
            full = by_id[trade["id"]]
            if trade != full:
                assert trade["sell_date"] is None and full["sell_date"].date() > through
                assert trade == {**full, "sell": 0.0, "sell_date": None}


def test_the_demo_runs_through_today_by_default(db: Database) -> None:
    """What ``make run`` and ``rms db seed --demo`` get: this month's or last month's rows."""
    today = datetime.now(UTC).date()
    db.run(seed_demo, write=True)
    latest = db.run(
        lambda s: max(
            s.scalar(select(func.max(DivDeposit.date))), s.scalar(select(func.max(Trade.buy_date)))
        )
    )
    latest = latest.date() if isinstance(latest, datetime) else latest
    assert today.replace(day=1) - timedelta(days=31) <= latest <= today
    reseeded = db.run(lambda s: seed_demo(s, through=today), write=True)
    assert reseeded.total == 0


def test_reseeding_later_adds_only_the_days_since(db: Database) -> None:
    first = db.run(lambda s: seed_demo(s, through=date(2026, 3, 10)), write=True)
    again = db.run(lambda s: seed_demo(s, through=date(2026, 9, 30)), write=True)
    assert first.inserted["trades"] > 300 and again.inserted["trades"] > 20
    assert again.inserted["accounts"] == again.inserted["universe"] == 0
    open_then = db.run(
        lambda s: s.scalar(select(func.count()).select_from(Trade).where(Trade.sell_date.is_(None)))
    )
    assert open_then > 0
    assert db.run(lambda s: seed_demo(s, through=date(2026, 9, 30)), write=True).total == 0


def test_through_too_far_ahead_is_refused(db: Database) -> None:
    with pytest.raises(ValueError, match="more than a year after today"):
        db.run(lambda s: seed_demo(s, through=date(2100, 1, 1)), write=True)
