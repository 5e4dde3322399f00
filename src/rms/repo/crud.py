"""Generic create, read, update and (soft) delete over a :class:`ResourceSpec`.

Rules every resource shares:

* soft delete: ``deletedAt`` is set, the row stays; lists hide it unless asked;
* optimistic concurrency: an update or delete names the ``version`` it read; the row
  changes only if that is still its version (checked in the UPDATE's WHERE clause, so two
  racing writers cannot both win), and the version goes up by one;
* idempotent creates: a create that names an id already holding the same content returns
  that row instead of failing or making a second one, so a retried request is harmless;
* references are checked before writing, so the error names the field on both dialects.

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
from sqlalchemy.orm import Session

from rms.errors import ConflictError, NotFoundError, ReferenceViolationError, StaleVersionError
from rms.repo.resources import ResourceSpec
from rms.schema.types import utcnow

__all__ = ["Page", "create_row", "delete_row", "get_row", "list_rows", "new_id", "update_row"]


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


def _check_references(session: Session, spec: ResourceSpec, values: Mapping[str, Any]) -> None:
    for field, target in spec.references.items():
        ref = values.get(field)
        if ref is None:
            continue
        row = session.get(target, ref)
        if row is None or getattr(row, "deletedAt", None) is not None:
            raise ReferenceViolationError(
                f"{field}: no {target.__tablename__} row with id {ref!r}", field=field, value=ref
            )


def _same_content(row: Any, values: Mapping[str, Any]) -> bool:
    return all(getattr(row, name) == value for name, value in values.items())


def create_row(session: Session, spec: ResourceSpec, values: Mapping[str, Any]) -> Any:
    """Insert a row; a repeat of the same create (same id, same content) returns the row."""
    data = dict(values)
    if data.get(spec.key) is None:
        # Callers that may retry generate the id before the first attempt (see the routes).
        data[spec.key] = new_id()
    existing = session.get(spec.model, data[spec.key])
    if existing is not None:
        if not _deleted(spec, existing) and _same_content(existing, data):
            return existing
        raise ConflictError(
            f"{spec.label} {data[spec.key]!r} already exists with different content",
            field=spec.key,
        )
    _check_references(session, spec, data)
    now = utcnow()
    managed: dict[str, Any] = {"createdAt": now, "updatedAt": now, "version": 1}
    row = spec.model(**data, **{k: v for k, v in managed.items() if spec.has_column(k)})
    session.add(row)
    session.flush()
    return row


def _already_applied(row: Any, version: int | None, values: Mapping[str, Any]) -> bool:
    """True when ``row`` shows this very change made once already (a replayed request).

    A retried transaction whose first COMMIT landed but was not acknowledged finds the row
    one version on, holding the values it asked for; that is success, not a conflict.
    """
    if version is None or row.version != version + 1:
        return False
    if "deletedAt" in values:
        return row.deletedAt is not None
    return row.deletedAt is None and _same_content(row, values)


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
        if _already_applied(current, version, values):
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
    """Apply ``changes`` if the row is still at ``version`` (unversioned tables: always)."""
    _check_references(session, spec, changes)
    return _versioned_update(session, spec, key, version, changes)


def delete_row(session: Session, spec: ResourceSpec, key: str, version: int | None) -> Any:
    """Soft-delete: set ``deletedAt`` (checking ``version`` when one is given).

    A table without ``deletedAt`` loses the row for real; the row is returned as it was
    (its attributes stay loaded after the flush).
    """
    if spec.soft_delete:
        return _versioned_update(session, spec, key, version, {"deletedAt": utcnow()})
    row = get_row(session, spec, key)
    session.delete(row)
    session.flush()
    return row
