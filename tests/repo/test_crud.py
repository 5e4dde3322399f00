"""The shared CRUD rules, called directly on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rms.db.database import Database
from rms.errors import (
    ConflictError,
    InUseError,
    InvalidInputError,
    NotFoundError,
    ReferenceViolationError,
    StaleVersionError,
)
from rms.repo import crud
from rms.repo.resources import RESOURCES

ACCOUNTS = RESOURCES["accounts"]
GROUPS = RESOURCES["risk-groups"]
UNIVERSE = RESOURCES["universe"]


def test_create_generates_an_id_and_starts_at_version_one(db: Database) -> None:
    row = db.run(lambda s: crud.create_row(s, ACCOUNTS, {"name": "Generated"}))
    assert len(row.id) == 36 and row.version == 1 and row.createdAt == row.updatedAt


def test_update_and_delete_move_the_version_and_check_it(db: Database) -> None:
    db.run(lambda s: crud.create_row(s, ACCOUNTS, {"id": "a", "name": "A"}))
    updated = db.run(lambda s: crud.update_row(s, ACCOUNTS, "a", 1, {"name": "B"}))
    assert (updated.name, updated.version) == ("B", 2)
    with pytest.raises(StaleVersionError) as info:
        db.run(lambda s: crud.update_row(s, ACCOUNTS, "a", 1, {"name": "C"}))
    assert info.value.details == {"resource": "account", "given": 1, "current": 2}
    deleted = db.run(lambda s: crud.delete_row(s, ACCOUNTS, "a", 2))
    assert deleted.deletedAt is not None and deleted.version == 3
    # A replayed delete (its answer lost) succeeds; anything else on a deleted row is 404.
    assert db.run(lambda s: crud.delete_row(s, ACCOUNTS, "a", 2)).version == 3
    with pytest.raises(NotFoundError):
        db.run(lambda s: crud.update_row(s, ACCOUNTS, "a", 3, {"name": "D"}))
    with pytest.raises(NotFoundError):
        db.run(lambda s: crud.get_row(s, ACCOUNTS, "a"))
    assert db.run(lambda s: crud.get_row(s, ACCOUNTS, "a", include_deleted=True)).name == "B"


def test_reusing_an_id_with_other_content_is_a_conflict(db: Database) -> None:
    db.run(lambda s: crud.create_row(s, ACCOUNTS, {"id": "same", "name": "One"}))
    with pytest.raises(ConflictError, match="already exists"):
        db.run(lambda s: crud.create_row(s, ACCOUNTS, {"id": "same", "name": "Two"}))


def test_references_are_checked_and_named(db: Database) -> None:
    values = {
        "symbol": "PDI",
        "distribution": 0.2,
        "distributions_per_year": 12,
        "last_price": 19.5,
        "risk_group_id": "missing",
    }
    with pytest.raises(ReferenceViolationError) as info:
        db.run(lambda s: crud.create_row(s, UNIVERSE, values))
    assert info.value.field == "risk_group_id"
    db.run(lambda s: crud.create_row(s, GROUPS, {"id": "missing", "name": "Now here"}))
    assert db.run(lambda s: crud.create_row(s, UNIVERSE, values)).symbol == "PDI"


def test_list_filters_pages_and_hides_deleted_rows(db: Database) -> None:
    for name in ("alpha", "beta", "Alphabet", "gamma_100%"):
        db.run(lambda s, n=name: crud.create_row(s, ACCOUNTS, {"id": n, "name": n}))
    db.run(lambda s: crud.delete_row(s, ACCOUNTS, "beta", None))

    def names(**filters: str) -> list[str]:
        page = db.run(lambda s: crud.list_rows(s, ACCOUNTS, filters=filters))
        return sorted(row.name for row in page.items)

    assert names(name="alpha") == ["Alphabet", "alpha"]  # contains, any case
    assert names(name="100%") == ["gamma_100%"]  # % and _ are literal, not wildcards
    assert names(name="l_h") == []  # as a wildcard, _ would match the "p" of alpha
    assert "beta" not in names()
    page = db.run(
        lambda s: crud.list_rows(s, ACCOUNTS, filters={}, include_deleted=True, limit=2, offset=0)
    )
    assert page.total == 4 and len(page.items) == 2


TRADES = RESOURCES["trades"]
DEPOSITS = RESOURCES["div-deposits"]


def _book(db: Database) -> None:
    db.run(lambda s: crud.create_row(s, GROUPS, {"id": "g", "name": "Income"}))
    symbol = {
        "id": "pdi",
        "symbol": "PDI",
        "distribution": 0.2,
        "distributions_per_year": 12,
        "last_price": 19.5,
        "risk_group_id": "g",
    }
    db.run(lambda s: crud.create_row(s, UNIVERSE, symbol))
    db.run(lambda s: crud.create_row(s, ACCOUNTS, {"id": "acct", "name": "Taxable"}))


def _open_trade(db: Database, trade_id: str, **extra: Any) -> Any:
    values = {
        "id": trade_id,
        "accountId": "acct",
        "universeId": "pdi",
        "buy": 10.0,
        "quantity": 5,
        "buy_date": datetime(2024, 3, 1, tzinfo=UTC),
        **extra,
    }
    return db.run(lambda s: crud.create_row(s, TRADES, values))


def test_trade_rules_hold_for_the_stored_row_after_an_update(db: Database) -> None:
    _book(db)
    sold = {"sell": 12.0, "sell_date": datetime(2024, 4, 1, tzinfo=UTC)}
    trade = _open_trade(db, "t1", **sold)
    assert trade.sell == 12.0
    # Moving the buy date past the stored sell date breaks the rule as much as the reverse.
    late = {"buy_date": datetime(2024, 5, 1, tzinfo=UTC)}
    with pytest.raises(InvalidInputError) as info:
        db.run(lambda s: crud.update_row(s, TRADES, "t1", 1, late))
    assert info.value.field == "sell_date"
    with pytest.raises(InvalidInputError, match="buy price must be more than 0"):
        db.run(lambda s: crud.update_row(s, TRADES, "t1", 1, {"buy": 0.0}))
    reopened = db.run(
        lambda s: crud.update_row(s, TRADES, "t1", 1, {"sell": None, "sell_date": None})
    )
    assert (reopened.sell, reopened.sell_date, reopened.version) == (0.0, None, 2)


def test_a_stale_update_is_a_version_conflict_before_any_rule(db: Database) -> None:
    _book(db)
    _open_trade(db, "t1")
    db.run(lambda s: crud.update_row(s, TRADES, "t1", 1, {"quantity": 6}))
    with pytest.raises(StaleVersionError):
        db.run(lambda s: crud.update_row(s, TRADES, "t1", 1, {"buy": 0.0}))


def test_trades_name_their_symbol(db: Database) -> None:
    _book(db)
    by_symbol = _open_trade(db, "t1", universeId=None, symbol="PDI")
    assert by_symbol.universeId == "pdi"
    with pytest.raises(ReferenceViolationError) as info:
        _open_trade(db, "t2", universeId=None, symbol="NOPE")
    assert info.value.field == "symbol" and info.value.details["value"] == "NOPE"
    with pytest.raises(InvalidInputError) as missing:
        _open_trade(db, "t3", universeId=None)
    assert missing.value.field == "universeId"


def test_guards_keep_rows_with_open_trades(db: Database) -> None:
    _book(db)
    _open_trade(db, "t1")
    _open_trade(db, "t2", sell=11.0, sell_date=datetime(2024, 4, 1, tzinfo=UTC))
    for spec, key in ((ACCOUNTS, "acct"), (UNIVERSE, "pdi")):
        with pytest.raises(InUseError) as info:
            db.run(lambda s, spec=spec, key=key: crud.delete_row(s, spec, key, None))
        assert (info.value.ids, info.value.count, info.value.dependents) == (
            ["t1"],
            1,
            "open trades",
        )
    # A stale version is reported as such, not as the guard.
    with pytest.raises(StaleVersionError):
        db.run(lambda s: crud.delete_row(s, ACCOUNTS, "acct", 7))
    db.run(lambda s: crud.delete_row(s, TRADES, "t1", None))
    assert db.run(lambda s: crud.delete_row(s, ACCOUNTS, "acct", None)).deletedAt is not None


def test_deposit_rules(db: Database) -> None:
    _book(db)
    db.run(lambda s: crud.create_row(s, RESOURCES["div-deposit-types"], {"id": "k", "name": "D"}))
    common = {
        "accountId": "acct",
        "divDepositTypeId": "k",
        "date": datetime(2024, 3, 1, tzinfo=UTC),
    }
    db.run(lambda s: crud.create_row(s, DEPOSITS, {"id": "w", "amount": -5.0, **common}))
    with pytest.raises(InvalidInputError, match="dividend"):
        db.run(lambda s: crud.update_row(s, DEPOSITS, "w", 1, {"universeId": "pdi"}))
    with pytest.raises(InvalidInputError, match="must not be 0"):
        db.run(lambda s: crud.create_row(s, DEPOSITS, {"id": "z", "amount": 0.0, **common}))
