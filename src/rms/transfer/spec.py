"""What the migration knows about each target table, derived from :mod:`rms.schema.core`.

One description (column kinds, nullability, defaults for columns older files lack, unique
columns, foreign keys, load order) drives the converter, the loader, the checksums and the
rollback, so they cannot disagree about a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from sqlalchemy import Boolean, Double, Enum, Integer, Table, Text, UniqueConstraint
from sqlalchemy.types import JSON

from rms.schema.core import SERVICE_STATE_TABLES, metadata
from rms.schema.types import UTCDateTime

__all__ = ["ColumnSpec", "Kind", "TableSpec", "table_specs"]

Kind = Literal["text", "int", "float", "bool", "datetime", "json", "enum"]

#: The PostgreSQL type each kind is sent as in binary COPY (an enum's binary form is its
#: label's text; instants are ``timestamp(3)`` holding UTC, see rms.schema.types).
PG_TYPES: dict[Kind, str] = {
    "text": "text",
    "int": "int4",
    "float": "float8",
    "bool": "bool",
    "datetime": "timestamp",
    "json": "jsonb",
    "enum": "text",
}

#: Marker default: "the instant the run started" (createdAt/updatedAt missing in old files).
RUN_START = "<run start>"


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: Kind
    nullable: bool
    #: What a missing source column becomes: a value, None, or :data:`RUN_START`.
    default: Any
    has_default: bool
    unique: bool = False
    #: The values an ``enum`` column accepts.
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    name: str
    pk: str
    columns: tuple[ColumnSpec, ...]
    #: (column, parent table) for each foreign key; parents are referenced by their pk.
    fks: tuple[tuple[str, str], ...] = ()
    #: Tables that reference this one (so its loaded ids are kept for reference checks).
    referenced: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> ColumnSpec:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)


def _kind(table: Table, name: str) -> Kind:
    ctype = table.c[name].type
    if isinstance(ctype, Enum):
        return "enum"
    if isinstance(ctype, UTCDateTime):
        return "datetime"
    if isinstance(ctype, Boolean):
        return "bool"
    if isinstance(ctype, Double):
        return "float"
    if isinstance(ctype, Integer):
        return "int"
    if isinstance(ctype, JSON):
        return "json"
    if isinstance(ctype, Text):
        return "text"
    raise TypeError(f"{table.name}.{name}: no migration rule for {ctype!r}")


def _default(table: Table, name: str) -> tuple[bool, Any]:
    col = table.c[name]
    default = col.default
    if default is not None:
        arg = getattr(default, "arg", None)
        if callable(arg):
            return True, RUN_START
        return True, arg
    if col.nullable:
        return True, None
    return False, None


@cache
def table_specs() -> tuple[TableSpec, ...]:
    """Every table the tools move, in foreign-key order (parents first): the schema's
    tables but :data:`~rms.schema.core.SERVICE_STATE_TABLES`."""
    parents = {fk.column.table.name for t in metadata.tables.values() for fk in t.foreign_keys}
    specs = []
    for table in metadata.sorted_tables:
        if table.name in SERVICE_STATE_TABLES:
            continue  # the service's own state (sessions): never moved between databases
        unique_cols = {
            c.name
            for con in table.constraints
            if isinstance(con, UniqueConstraint) and len(con.columns) == 1
            for c in con.columns
        } | {c.name for c in table.columns if c.unique}
        # Prisma's unique keys are unique indexes.
        unique_cols |= {
            c.name for ix in table.indexes if ix.unique and len(ix.columns) == 1 for c in ix.columns
        }
        columns = []
        for col in table.columns:
            has_default, default = _default(table, col.name)
            columns.append(
                ColumnSpec(
                    name=col.name,
                    kind=_kind(table, col.name),
                    nullable=bool(col.nullable),
                    default=default,
                    has_default=has_default and not col.primary_key,
                    unique=col.name in unique_cols or col.primary_key,
                    choices=tuple(getattr(col.type, "enums", ())),
                )
            )
        (pk,) = [c.name for c in table.primary_key.columns]
        fks = tuple(sorted((fk.parent.name, fk.column.table.name) for fk in table.foreign_keys))
        specs.append(
            TableSpec(
                name=table.name,
                pk=pk,
                columns=tuple(columns),
                fks=fks,
                referenced=table.name in parents,
            )
        )
    return tuple(specs)
