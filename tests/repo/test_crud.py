"""The shared CRUD rules, called directly on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from rms.db.database import Database
from rms.errors import ConflictError, NotFoundError, ReferenceViolationError, StaleVersionError
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
