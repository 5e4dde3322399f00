"""Removing the demo portfolio: exactly its rows, in one transaction, never the owner's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from rms.db.database import Database
from rms.repo import crud
from rms.repo.resources import RESOURCES
from rms.schema.tables import (
    Account,
    DivDeposit,
    DivDepositType,
    Holiday,
    RiskGroup,
    Trade,
    Universe,
)
from rms.seed import (
    DemoInUseError,
    demo_plan,
    has_demo,
    remove_demo,
    seed_demo,
    seed_reference,
)
from tests.demo import DEMO_THROUGH

MARCH = datetime(2025, 3, 3, tzinfo=UTC)
TABLES = (Account, Universe, Trade, DivDeposit, RiskGroup, DivDepositType, Holiday)


def _counts(db: Database) -> dict[str, int]:
    def work(session: Any) -> dict[str, int]:
        return {
            str(m.__tablename__): int(session.scalar(select(func.count()).select_from(m)) or 0)
            for m in TABLES
        }

    return db.run(work)


def _owner(db: Database, *, account: str = "demo-mine", symbol: str = "u-mine") -> None:
    """The owner's own rows; ids chosen to look like the demo's would not fool the removal."""

    def work(session: Any) -> None:
        crud.create_row(session, RESOURCES["accounts"], {"id": "demo-mine", "name": "My IRA"})
        crud.create_row(
            session,
            RESOURCES["universe"],
            {
                "id": "u-mine",
                "symbol": "MINE",
                "risk_group_id": "rg-income",
                "distributions_per_year": 12,
                "last_price": 10.0,
                "distribution": 0.1,
            },
        )
        trade = {
            "id": "my-trade",
            "universeId": symbol,
            "accountId": account,
            "buy": 9.0,
            "buy_date": MARCH,
            "quantity": 10,
        }
        crud.create_row(session, RESOURCES["trades"], trade)
        crud.create_row(
            session,
            RESOURCES["div-deposits"],
            {
                "id": "my-deposit",
                "accountId": "demo-mine",
                "amount": 100.0,
                "date": MARCH,
                "divDepositTypeId": "ddt-deposit",
            },
        )

    db.run(work, write=True)


@pytest.fixture
def seeded(db: Database) -> Database:
    db.run(
        lambda s: (seed_reference(s, [2024, 2025]), seed_demo(s, through=DEMO_THROUGH)), write=True
    )
    return db


def test_only_the_demo_rows_go(seeded: Database) -> None:
    _owner(seeded, account="demo-mine")
    before = _counts(seeded)
    plan = seeded.run(demo_plan)
    assert plan.dependents == [] and plan.present["accounts"] == 3 and plan.total > 500
    _, deleted = seeded.run(lambda s: remove_demo(s), write=True)
    assert deleted == plan.present
    after = _counts(seeded)
    assert after["accounts"] == 1 and after["universe"] == 1
    assert after["trades"] == 1 and after["divDeposits"] == 1
    for reference in ("risk_group", "divDepositType", "holidays"):
        assert after[reference] == before[reference]
    assert seeded.run(demo_plan).total == 0
    assert seeded.run(lambda s: remove_demo(s), write=True)[1] == dict.fromkeys(deleted, 0)


def test_refused_when_the_owners_rows_use_demo_rows(seeded: Database) -> None:
    _owner(seeded, account="demo-account-1", symbol="demo-pdi")
    before = _counts(seeded)
    plan = seeded.run(demo_plan)
    assert plan.dependents == [
        "1 of your trades in the demo account Brokerage and of the demo symbol PDI"
    ]
    with pytest.raises(DemoInUseError) as refused:
        seeded.run(lambda s: remove_demo(s), write=True)
    assert "not removed" in refused.value.message and refused.value.lines == tuple(plan.dependents)
    assert _counts(seeded) == before


def test_keep_what_the_owner_uses(seeded: Database) -> None:
    _owner(seeded, account="demo-account-1", symbol="demo-pdi")
    seeded.run(lambda s: remove_demo(s, keep_used=True), write=True)
    left = seeded.run(
        lambda s: (
            sorted(s.scalars(select(Account.id))),
            sorted(s.scalars(select(Universe.id))),
            sorted(s.scalars(select(Trade.id))),
        )
    )
    assert left == (["demo-account-1", "demo-mine"], ["demo-pdi", "u-mine"], ["my-trade"])


def test_a_deleted_row_of_the_owner_still_counts(seeded: Database) -> None:
    _owner(seeded, account="demo-account-2")
    seeded.run(lambda s: crud.delete_row(s, RESOURCES["trades"], "my-trade", None), write=True)
    plan = seeded.run(demo_plan)
    assert plan.dependents == [
        "1 of your trades in the demo account Roth IRA (1 of them deleted, which could "
        "still be undone)"
    ]


def _ids(db: Database) -> dict[str, set[str]]:
    return db.run(
        lambda s: {
            str(m.__tablename__): set(s.scalars(select(m.__table__.c.id)))
            for m in (Account, Universe, Trade, DivDeposit)
        }
    )


OWNERS = {
    "accounts": {"demo-mine"},
    "universe": {"u-mine"},
    "trades": {"my-trade"},
    "divDeposits": {"my-deposit"},
}


@pytest.mark.parametrize("reseeded_today", [False, True])
def test_a_demo_seeded_long_ago_goes_whole(db: Database, reseeded_today: bool) -> None:
    """Seeded through an earlier day (a year and a half ago, mid-month, with lots then open
    that the generator sells later), maybe topped up today, removed with today's code."""
    db.run(
        lambda s: (seed_reference(s, [2024]), seed_demo(s, through=date(2025, 6, 17))),
        write=True,
    )
    if reseeded_today:
        db.run(seed_demo, write=True)
    _owner(db)
    before = _counts(db)
    assert before["trades"] > 250 and before["divDeposits"] > 500
    plan = db.run(demo_plan)
    assert plan.dependents == [] and plan.total == sum(before[t] - 1 for t in OWNERS)
    _, deleted = db.run(lambda s: remove_demo(s), write=True)
    assert deleted == plan.present
    assert _ids(db) == OWNERS
    after = _counts(db)
    for reference in ("risk_group", "divDepositType", "holidays"):
        assert after[reference] == before[reference]
    assert not db.run(has_demo)
