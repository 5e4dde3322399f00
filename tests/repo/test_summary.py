"""Where the dashboard opens: the latest month with data, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from rms.db.database import Database
from rms.repo import crud
from rms.repo.resources import RESOURCES
from rms.repo.summary import latest_month

T = datetime


def test_latest_month_with_data_before_an_instant(db: Database) -> None:
    def write(session: Session) -> None:
        def create(resource: str, **values: Any) -> None:
            crud.create_row(session, RESOURCES[resource], values)

        create("risk-groups", id="g", name="G")
        create("accounts", id="a", name="A")
        create("accounts", id="b", name="B")
        create("div-deposit-types", id="k", name="Kind")
        create(
            "universe",
            id="u",
            symbol="S",
            distribution=0.1,
            distributions_per_year=12,
            last_price=10.0,
            risk_group_id="g",
        )
        lot = {"universeId": "u", "buy": 10.0, "quantity": 1}
        create("trades", id="t1", accountId="a", buy_date=T(2024, 2, 3, tzinfo=UTC), **lot)
        create(
            "trades",
            id="t2",
            accountId="a",
            buy_date=T(2024, 1, 3, tzinfo=UTC),
            sell_date=T(2024, 5, 31, 23, tzinfo=UTC),
            sell=11.0,
            **lot,
        )
        create(
            "div-deposits",
            id="d1",
            accountId="b",
            divDepositTypeId="k",
            amount=5.0,
            date=T(2024, 4, 1, tzinfo=UTC),
        )
        create(  # deleted rows do not count
            "div-deposits",
            id="d2",
            accountId="b",
            divDepositTypeId="k",
            amount=5.0,
            date=T(2024, 9, 1, tzinfo=UTC),
            deletedAt=T(2024, 9, 2, tzinfo=UTC),
        )
        # A row dated after the instant asked about does not count either.
        create("trades", id="t3", accountId="b", buy_date=T(2030, 1, 1, tzinfo=UTC), **lot)

    db.run(write, write=True)
    before = T(2026, 1, 1, tzinfo=UTC)
    assert db.run(lambda s: latest_month(s, before)) == "2024-05"  # t2's sale
    assert db.run(lambda s: latest_month(s, before, "b")) == "2024-04"
    assert db.run(lambda s: latest_month(s, T(2024, 5, 31, tzinfo=UTC), "a")) == "2024-02"
    assert db.run(lambda s: latest_month(s, T(2024, 1, 1, tzinfo=UTC))) is None
