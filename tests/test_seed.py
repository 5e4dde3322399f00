"""Reference data and the demo portfolio: idempotent, believable, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from rms.db.database import Database
from rms.repo.summary import month_summary
from rms.schema.tables import DivDepositType, Holiday, RiskGroup, Trade
from rms.seed import seed_demo, seed_reference


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
