"""Generic create, read, update and (soft) delete over a :class:`ResourceSpec`.

Rules every resource shares:

* soft delete: ``deletedAt`` is set, the row stays; lists hide it unless asked;
* optimistic concurrency: an update or delete names the ``version`` it read; the row
  changes only if that is still its version (checked in the UPDATE's WHERE clause, so two
  racing writers cannot both win), and the version goes up by one;
* idempotent creates: a create that names an id already holding the same content returns
  that row instead of failing or making a second one, so a retried request is harmless;
* references are checked before writing, so the error names the field on both dialects,
  and locked until the write commits, so a concurrent delete of the referenced row waits;
* the table's rules (:class:`rms.repo.resources.Rules`, e.g. a trade's sell date not before
  its buy date) hold for the row as written, and rows with guards are not deleted while
  something depends on them (an account with open trades).

Tables without ``deletedAt``/``version`` (the application's CUSIP tables) follow the rules
they can: a delete removes the row, an update applies without a version check (last writer
wins; the same change applied twice is harmless), a create is idempotent as above.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session

from rms.errors import (
    ConflictError,
    InUseError,
    InvalidInputError,
    NotFoundError,
    ReferenceViolationError,
    StaleVersionError,
)
from rms.repo.resources import ResourceSpec
from rms.schema.tables import Universe
from rms.schema.types import utcnow

__all__ = [
    "Page",
    "create_row",
    "delete_row",
    "get_row",
    "list_rows",
    "new_id",
    "restore_row",
    "update_row",
]


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    limit: int
    offset: int


def new_id() -> str:
    return str(uuid.uuid4())


def _conditions(
    spec: ResourceSpec, filters: Mapping[str, Any], include_deleted: bool
) -> list[ColumnElement[bool]]:
    conditions = [spec.filters[name](value) for name, value in filters.items() if value is not None]
    if not include_deleted and spec.soft_delete:
        conditions.append(spec.column("deletedAt").is_(None))
    return conditions


def list_rows(
    session: Session,
    spec: ResourceSpec,
    *,
    filters: Mapping[str, Any],
    include_deleted: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> Page:
    conditions = _conditions(spec, filters, include_deleted)
    total = session.scalar(select(func.count()).select_from(spec.model).where(*conditions)) or 0
    order = [spec.column(name) for name in spec.order_by] + [spec.key_column]
    query: Select[Any] = (
        select(spec.model).where(*conditions).order_by(*order).limit(limit).offset(offset)
    )
    return Page(list(session.scalars(query)), total, limit, offset)


def get_row(
    session: Session, spec: ResourceSpec, key: str, *, include_deleted: bool = False
) -> Any:
    row = session.get(spec.model, key, populate_existing=True)
    if row is None or (_deleted(spec, row) and not include_deleted):
        raise NotFoundError(spec.label, key)
    return row


def _deleted(spec: ResourceSpec, row: Any) -> bool:
    return spec.soft_delete and row.deletedAt is not None


def _lock_live(session: Session, model: type[Any], key: str, *, exclusive: bool = False) -> Any:
    """Read ``key`` and lock it until the transaction ends (PostgreSQL; no-op on SQLite).

    A write that depends on a row being live (a trade on an account) takes a shared lock
    (``FOR SHARE``) on it, and a delete that depends on nothing depending on it takes an
    exclusive one (``FOR UPDATE``) before it looks: the two then run one after the other,
    so a trade cannot be created on an account a concurrent request is deleting. (The
    foreign key's own ``FOR KEY SHARE`` does not conflict with a soft delete, which is an
    UPDATE of a non-key column.) On SQLite, writers are serialised by :class:`rms.db.Database`.
    """
    return session.get(
        model,
        key,
        populate_existing=True,
        with_for_update={"read": not exclusive},
    )


def _check_references(session: Session, spec: ResourceSpec, values: Mapping[str, Any]) -> None:
    for field, target in spec.references.items():
        ref = values.get(field)
        if ref is None:
            continue
        row = _lock_live(session, target, ref)
        if row is None or getattr(row, "deletedAt", None) is not None:
            raise ReferenceViolationError(
                f"{field}: no {target.__tablename__} row with id {ref!r}", field=field, value=ref
            )


def _resolve_symbol(session: Session, spec: ResourceSpec, values: dict[str, Any]) -> None:
    """Replace ``symbol`` by the id of its (live) universe row, in ``spec.symbol_field``."""
    field = spec.symbol_field
    if field is None or "symbol" not in values:
        return
    symbol = values.pop("symbol")
    if symbol is None:
        return
    row = session.scalar(
        select(Universe)
        .where(Universe.symbol == symbol, Universe.deletedAt.is_(None))
        .with_for_update(read=True)
    )
    if row is None:
        raise ReferenceViolationError(
            f"symbol: no symbol {symbol!r} in the universe", field="symbol", value=symbol
        )
    given = values.get(field)
    if given is not None and given != row.id:
        raise InvalidInputError(
            f"symbol: {symbol!r} is universe row {row.id!r}, but {field} names {given!r}; "
            f"send one of the two",
            field="symbol",
        )
    values[field] = row.id


def _columns(spec: ResourceSpec, row: Any) -> dict[str, Any]:
    return {attr.key: getattr(row, attr.key) for attr in spec.model.__mapper__.column_attrs}


def _same_content(spec: ResourceSpec, row: Any, values: Mapping[str, Any]) -> bool:
    """Whether ``row`` holds ``values``, compared as the API shows them (rules' view)."""
    stored = _columns(spec, row)
    wanted = {**stored, **values}
    if spec.rules is not None:
        stored, wanted = spec.rules.view(stored), spec.rules.view(wanted)
    return all(stored[name] == wanted[name] for name in values)


def _replayed(spec: ResourceSpec, existing: Any, data: Mapping[str, Any]) -> Any:
    if not _deleted(spec, existing) and _same_content(spec, existing, data):
        return existing
    raise ConflictError(
        f"{spec.label} {data[spec.key]!r} already exists with different content", field=spec.key
    )


def create_row(session: Session, spec: ResourceSpec, values: Mapping[str, Any]) -> Any:
    """Insert a row; a repeat of the same create (same id, same content) returns the row.

    Concurrent repeats (a client retrying while its first request is still running) race
    for the primary key: the loser's INSERT fails inside a SAVEPOINT, and it answers with
    the winner's row when that holds the same content, so every repeat gets the one row.
    """
    data = dict(values)
    if data.get(spec.key) is None:
        # Callers that may retry generate the id before the first attempt (see the routes).
        data[spec.key] = new_id()
    _resolve_symbol(session, spec, data)
    if spec.symbol_field is not None and data.get(spec.symbol_field) is None:
        raise InvalidInputError(
            f"{spec.symbol_field}: name the symbol, by its universe id ({spec.symbol_field}) "
            "or by the symbol itself (symbol)",
            field=spec.symbol_field,
        )
    if spec.rules is not None:
        spec.rules.check(data)
        data = spec.rules.store(data, data, True)
    existing = session.get(spec.model, data[spec.key], populate_existing=True)
    if existing is not None:
        return _replayed(spec, existing, data)
    _check_references(session, spec, data)
    now = utcnow()
    managed: dict[str, Any] = {"createdAt": now, "updatedAt": now, "version": 1}
    row = spec.model(**data, **{k: v for k, v in managed.items() if spec.has_column(k)})
    try:
        with session.begin_nested():
            session.add(row)
    except sa_exc.IntegrityError:  # caught to decide (a replay?), else rms.db translates it
        existing = session.get(spec.model, data[spec.key], populate_existing=True)
        if existing is None:
            raise  # another unique key (a name): rms.db translates it
        return _replayed(spec, existing, data)
    return row


def _already_applied(
    spec: ResourceSpec, row: Any, version: int | None, values: Mapping[str, Any]
) -> bool:
    """True when ``row`` shows this very change made once already (a replayed request).

    A retried transaction whose first COMMIT landed but was not acknowledged finds the row
    one version on, holding the values it asked for; that is success, not a conflict.
    """
    if version is None or row.version != version + 1:
        return False
    if "deletedAt" in values:
        return row.deletedAt is not None
    return row.deletedAt is None and _same_content(spec, row, values)


def _versioned_update(
    session: Session, spec: ResourceSpec, key: str, version: int | None, values: Mapping[str, Any]
) -> Any:
    model = spec.model
    conditions = [spec.key_column == key]
    managed: dict[str, Any] = {}
    if spec.soft_delete:
        conditions.append(spec.column("deletedAt").is_(None))
    if spec.versioned:
        managed["version"] = spec.column("version") + 1
        if version is not None:
            conditions.append(spec.column("version") == version)
    if spec.has_column("updatedAt"):
        managed["updatedAt"] = utcnow()
    stmt = (
        update(model)
        .where(*conditions)
        .values(**values, **managed)
        .execution_options(synchronize_session=False)
    )
    if session.execute(stmt).rowcount == 0:  # type: ignore[attr-defined]
        current = get_row(session, spec, key, include_deleted=True)  # raises if absent
        if _already_applied(spec, current, version, values):
            return current
        if _deleted(spec, current):
            raise NotFoundError(spec.label, key)
        raise StaleVersionError(spec.label, key, given=version or 0, current=current.version)
    return get_row(session, spec, key, include_deleted=True)


def update_row(
    session: Session,
    spec: ResourceSpec,
    key: str,
    version: int | None,
    changes: Mapping[str, Any],
) -> Any:
    """Apply ``changes`` if the row is still at ``version`` (unversioned tables: always).

    The rules are checked on the stored row with the changes applied; the conditional
    UPDATE then makes sure that row is still the one checked (its version is unchanged).
    """
    values = dict(changes)
    _resolve_symbol(session, spec, values)
    references = {k: v for k, v in values.items() if k in spec.references}
    if spec.rules is not None:
        current = get_row(session, spec, key, include_deleted=True)
        merged = {**spec.rules.view(_columns(spec, current)), **values}
        if not _deleted(spec, current) and (version is None or current.version == version):
            spec.rules.check(merged)
        if spec.rules.relink(merged, values):
            references = {k: merged[k] for k in spec.references}
        values = spec.rules.store(merged, values, False)
    _check_references(session, spec, references)
    return _versioned_update(session, spec, key, version, values)


def _check_guards(session: Session, spec: ResourceSpec, key: str) -> None:
    for guard in spec.guards:
        column = getattr(guard.model, guard.column)
        conditions = [column == key, *guard.blocking()]
        count = session.scalar(select(func.count()).select_from(guard.model).where(*conditions))
        if count:
            ids = session.scalars(
                select(guard.model.id)
                .where(*conditions)
                .order_by(guard.model.id)
                .limit(InUseError.SHOWN)
            )
            raise InUseError(spec.label, key, guard.label, list(ids), int(count))


def delete_row(session: Session, spec: ResourceSpec, key: str, version: int | None) -> Any:
    """Soft-delete: set ``deletedAt`` (checking ``version`` when one is given).

    A row with guards (an account, a symbol) is locked first and deleted only when nothing
    blocks it (no open trade names it); see :func:`_lock_live` for why the lock comes first.
    A table without ``deletedAt`` loses the row for real; the row is returned as it was
    (its attributes stay loaded after the flush).
    """
    if spec.soft_delete:
        if spec.guards:
            row = _lock_live(session, spec.model, key, exclusive=True)
            live = row is not None and not _deleted(spec, row)
            if live and (version is None or row.version == version):
                _check_guards(session, spec, key)
        return _versioned_update(session, spec, key, version, {"deletedAt": utcnow()})
    row = get_row(session, spec, key)
    session.delete(row)
    session.flush()
    return row


def restore_row(session: Session, spec: ResourceSpec, key: str, version: int | None) -> Any:
    """Undo a soft delete: clear ``deletedAt`` of the row deleted at ``version``.

    ``version`` is the deleted row's version (the one the delete left). The row comes back
    only if what it references is still live (a trade on a deleted account stays deleted),
    and goes up one version. Repeating the same restore is harmless.
    """
    if not spec.soft_delete:
        raise InvalidInputError(f"id: a {spec.label} cannot be restored once deleted", field="id")
    row = get_row(session, spec, key, include_deleted=True)
    if row.deletedAt is None:
        if version is not None and row.version == version + 1:
            return row  # this restore, replayed
        raise ConflictError(f"id: {spec.label} {key!r} is not deleted", field="id")
    if version is not None and row.version != version:
        raise StaleVersionError(spec.label, key, given=version, current=row.version)
    _check_references(session, spec, {k: getattr(row, k) for k in spec.references})
    conditions = [spec.key_column == key, spec.column("deletedAt").is_not(None)]
    if version is not None:
        conditions.append(spec.column("version") == version)
    stmt = (
        update(spec.model)
        .where(*conditions)
        .values(deletedAt=None, version=spec.column("version") + 1, updatedAt=utcnow())
        .execution_options(synchronize_session=False)
    )
    if session.execute(stmt).rowcount == 0:  # type: ignore[attr-defined]
        current = get_row(session, spec, key, include_deleted=True)
        raise StaleVersionError(spec.label, key, given=version or 0, current=current.version)
    return get_row(session, spec, key)
