"""Where every value of the source goes, and where every value of the target comes from.

A file may be at any of the 22 points of the application's history
(:mod:`rms.migrate.history`). :func:`build_lineage` looks at its schema once and decides, for
the run, every source table and column and every target column:

* a source column is **carried** (it is a target column), **archived** (the application
  dropped it later: its values go to ``rms_archive`` with origin ``migrate:<run id>``),
  **left behind** (the user named it with ``--leave-behind``) or **unknown**; a source table
  is carried, archived whole (``status``, ``_accountsTostatus``, ``_prisma_migrations``),
  left behind or unknown. Anything unknown fails the run, listed with its row and value
  counts, because a run that says "verified" must not have left data behind unseen.
* a target column is **carried**, **defaulted** (the file predates it and the column has a
  default: the application's own, or ours), **filled** (``--fill table.column=value``) or
  **derived**: ``universe.risk_group_id`` from the init-era INTEGER ``universe.risk_group``
  (each distinct old value becomes a ``risk_group`` row named after it, "risk group 2",
  unless ``--map-risk-group 2=NAME`` names another group), ``cusip_cache.source`` read with
  the application's own rename of OPENFIGI to THIRTEENF (migration 20; the old value is
  archived). A required column the file lacks, with no default, on a table with rows
  (``trades.quantity`` before migration 05, the screener's ``risk_group_id`` and prices
  before 14/15) is never invented: the run stops and names the ways out (``--fill``, or
  ``--on-error quarantine`` to set those rows aside whole in the quarantine file).

Rows the run itself produces (archived values, created risk groups, filled values, stand-ins:
:func:`archive_rows`, :func:`stand_in_row`) are put into TEMP tables of the connection that
reads the source (:func:`rms.migrate.lineage_store.materialize`), so the
loader, ``verify`` and the difference finder read them with the same SELECTs as any source
row, and their digests are computed the same way. Their ids are derived from the run id and
the values (UUID 5), so ``verify`` recomputes exactly the rows the run loaded.
"""

from __future__ import annotations

import json
import math
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rms.errors import InvalidInputError
from rms.migrate.convert import BadValue, parse_instant_text
from rms.migrate.errors import SchemaMismatchError
from rms.migrate.history import (
    ADDED_WITHOUT_DEFAULT,
    BOOKKEEPING_TABLES,
    DROPPED_COLUMNS,
    DROPPED_TABLES,
    OWN_BOOKKEEPING_TABLES,
    RENAMED_VALUES,
    HistoryPoint,
    history_point,
    migration_name,
)
from rms.migrate.report import jsonable
from rms.migrate.scan import ColumnOverride, TableMapping, map_table
from rms.migrate.sqlite import SourceColumn, SourceSchema, SourceTable
from rms.transfer.spec import RUN_START, TableSpec, table_specs
from rms.transfer.sqlite import quote_ident

__all__ = [
    "ArchiveItem",
    "Lineage",
    "LineageOptions",
    "RiskGroupDecision",
    "RunIdentity",
    "SourceAccount",
    "StandIn",
    "archive_rows",
    "build_lineage",
    "stand_in_row",
]

#: Namespace of the UUID 5 ids of rows a run creates (risk groups, archived values).
RMS_NAMESPACE = uuid.UUID("6f1f3b52-6d0c-5b8e-9a53-72d1f0a4c001")

#: TEMP tables a run creates on the connection that reads the source.
T_VALUES = 'temp."rms_m_values"'
T_RISK_MAP = 'temp."rms_m_risk_map"'
T_RISK_GROUP = 'temp."rms_m_risk_group"'
T_ARCHIVE = 'temp."rms_m_archive"'

ARCHIVE_TABLE = "rms_archive"
RISK_GROUP_TABLE = "risk_group"

#: Tables that may get stand-ins (``--stand-in TABLE``) -> the column that names a stand-in,
#: and how: ``STAND-IN <id>`` for a symbol, ``stand-in account <id>`` and so on, so the
#: owner finds them in the application and corrects them.
STAND_IN_TABLES: dict[str, tuple[str, str]] = {
    "universe": ("symbol", "STAND-IN {id}"),
    "accounts": ("name", "stand-in account {id}"),
    "divDepositType": ("name", "stand-in deposit type {id}"),
    "risk_group": ("name", "stand-in risk group {id}"),
}
#: The risk group every stand-in symbol belongs to (a universe row needs one).
STAND_IN_SYMBOLS_GROUP = "stand-in risk group of the stand-in symbols"


def stand_in_relation(table: str) -> str:
    """The TEMP table holding a table's source rows plus its stand-ins."""
    return f'temp."rms_m_standin_{table}"'


@dataclass(frozen=True)
class RunIdentity:
    """What rows a run creates depend on: its id (archive origin, ids) and start instant."""

    run_id: str
    run_start_ms: int

    @property
    def origin(self) -> str:
        return f"migrate:{self.run_id}"


@dataclass
class LineageOptions:
    """The user's decisions about what the file cannot decide itself (all recorded)."""

    #: ``table`` or ``table.column`` of the source that may stay behind, not migrated.
    leave_behind: tuple[str, ...] = ()
    #: Old INTEGER ``universe.risk_group`` value (as text) -> a risk group name or id.
    risk_group_map: Mapping[str, str] = field(default_factory=dict)
    #: ``table.column`` -> value (as text) for a column the source lacks.
    fills: Mapping[str, str] = field(default_factory=dict)
    #: Rows that cannot be loaded are quarantined rather than stopping the run.
    quarantine: bool = False
    #: Tables (:data:`STAND_IN_TABLES`) that get a stand-in row for each id the source
    #: references but does not hold.
    stand_ins: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "leave_behind": list(self.leave_behind),
            "risk_group_map": dict(self.risk_group_map),
            "fills": dict(self.fills),
            "quarantine": self.quarantine,
            "stand_ins": list(self.stand_ins),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LineageOptions:
        return cls(
            leave_behind=tuple(data.get("leave_behind", ())),
            risk_group_map=dict(data.get("risk_group_map", {})),
            fills=dict(data.get("fills", {})),
            quarantine=bool(data.get("quarantine", False)),
            stand_ins=tuple(data.get("stand_ins", ())),
        )


@dataclass
class StandIn:
    """A row the run makes up for an id the source references but does not hold."""

    table: str
    row_id: str
    #: The value of the naming column (:data:`STAND_IN_TABLES`).
    label: str
    #: ``table.column`` -> how many source rows reference this id there.
    referenced_by: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "id": self.row_id,
            STAND_IN_TABLES[self.table][0]: self.label,
            "referenced_by": dict(self.referenced_by),
        }


@dataclass
class RiskGroupDecision:
    """What one init-era ``universe.risk_group`` value became."""

    old_value: Any
    group_id: str
    name: str
    #: The run creates the group (True) or it exists in the source (False).
    created: bool
    #: Chosen with ``--map-risk-group`` (else the default "risk group N").
    mapped: bool
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "old_value": jsonable(self.old_value),
            "id": self.group_id,
            "name": self.name,
            "created": self.created,
            "mapped": self.mapped,
            "universe_rows": self.rows,
        }


@dataclass
class ArchiveItem:
    """Values of the source that go to ``rms_archive``: one column, or whole rows."""

    table: str
    column: str | None
    #: Values (or rows) archived.
    count: int
    why: str
    #: Only these values are archived (a rename: the rest are carried unchanged).
    only_values: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.table if self.column is None else f"{self.table}.{self.column}"


@dataclass
class SourceAccount:
    """The fate of one source table and each of its columns."""

    table: str
    rows: int
    #: carried | archived | left behind | bookkeeping (rms's alembic_version) | unknown
    fate: str
    target: str | None = None
    columns: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "fate": self.fate,
            "target": self.target,
            "columns": self.columns,
        }


@dataclass
class Lineage:
    """Every decision of :func:`build_lineage`; the loader and ``verify`` act on it."""

    mappings: list[TableMapping]
    accounts: dict[str, SourceAccount]
    archive: list[ArchiveItem]
    risk_groups: list[RiskGroupDecision]
    #: ``table`` -> rows, ``table.column`` -> non-NULL values, for what stays behind.
    left_behind: dict[str, int]
    #: What the file holds that nothing accounts for (a run with any of it fails).
    unknown: dict[str, int]
    #: Required columns without a value: ``table.column`` -> rows that lack it.
    missing: dict[str, int]
    warnings: list[str]
    notes: list[str]
    point: HistoryPoint
    #: What the owner should do after this migration (rename the created risk groups):
    #: said by ``migrate``, not again by every ``verify``.
    advice: list[str] = field(default_factory=list)
    #: ``T_VALUES`` contents: the filled values, in rowid order.
    fill_values: list[Any] = field(default_factory=list)
    #: Source ``risk_group`` rows by id and by name (for fills and the risk-group map).
    source_groups: dict[str, str] = field(default_factory=dict)
    #: Rows made up for ids the source references but does not hold (``--stand-in``).
    stand_ins: list[StandIn] = field(default_factory=list)
    #: Table with stand-ins -> (source relation, SELECT expressions) of its own source rows.
    stand_in_sources: dict[str, tuple[str, list[str]]] = field(default_factory=dict)

    @property
    def archived_total(self) -> int:
        return sum(item.count for item in self.archive)

    @property
    def stand_in_symbols_group(self) -> str | None:
        """The id of the risk group the stand-in symbols belong to (None: no such symbol)."""
        return next(
            (
                s.row_id
                for s in self.stand_ins
                if s.table == RISK_GROUP_TABLE and s.label == STAND_IN_SYMBOLS_GROUP
            ),
            None,
        )

    def mapping(self, table: str) -> TableMapping:
        for mapping in self.mappings:
            if mapping.spec.name == table:
                return mapping
        raise KeyError(table)

    def unaccounted_message(self) -> str:
        lines = [_describe_item(key, count) for key, count in self.unknown.items()]
        flags = " ".join(f"--leave-behind {key}" for key in self.unknown)
        return (
            "the source holds data the target has no place for (nothing was written)\n  "
            + "\n  ".join(lines)
            + f"\nto migrate anyway, leaving exactly these in the SQLite file: {flags}"
        )

    def fingerprint(self) -> dict[str, Any]:
        """What must not change between the preflight and the backup (else: still written)."""
        return {
            "tables": {m.spec.name: (m.source.rows if m.source else None) for m in self.mappings},
            "archive": {item.key: item.count for item in self.archive},
            "risk_groups": [g.to_dict() for g in self.risk_groups],
            "accounts": {k: a.to_dict() for k, a in self.accounts.items()},
            "missing": dict(self.missing),
            "stand_ins": [s.to_dict() for s in self.stand_ins],
        }


def _describe_item(key: str, count: int) -> str:
    if "." in key:
        return f"column {key}: {count} non-NULL value(s)"
    return f"table {key}: {count} row(s)"


# --------------------------------------------------------------------------- options


def _value_key(value: Any) -> str:
    """How an old risk_group value is written on a command line (``2`` for 2 and 2.0)."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _split_key(key: str, flag: str) -> tuple[str, str | None]:
    table, dot, column = key.partition(".")
    if not table or (dot and not column):
        raise InvalidInputError(f"{flag} {key}: expected TABLE or TABLE.COLUMN", field=flag)
    return table, column or None


def _parse_fill(spec: TableSpec, column: str, text: str, groups: Mapping[str, str]) -> Any:
    """The value of ``--fill table.column=text`` in the column's kind (or a clear refusal)."""
    col = spec.column(column)
    flag = f"--fill {spec.name}.{column}={text}"
    fk_parent = dict(spec.fks).get(column)
    if fk_parent == RISK_GROUP_TABLE:
        if text in groups:
            return groups[text]
        raise InvalidInputError(
            f"{flag}: no risk group with that id or name in the source"
            + (f" (it has: {', '.join(sorted(set(groups.values())))})" if groups else ""),
            field="--fill",
        )
    kind_names = {"int": "an integer", "float": "a number", "bool": "true or false"}
    try:
        if col.kind == "int":
            value: Any = int(text)
            if not -(2**31) <= value < 2**31:
                raise ValueError("outside the 32-bit range of the column")
            return value
        if col.kind == "float":
            number = float(text)
            if not math.isfinite(number):
                raise ValueError("not a finite number")
            return number
        if col.kind == "bool":
            lowered = text.lower()
            if lowered not in ("true", "false", "1", "0"):
                raise ValueError("not true or false")
            return 1 if lowered in ("true", "1") else 0
        if col.kind == "datetime":
            return parse_instant_text(text)
        if col.kind == "enum" and text not in col.choices:
            raise ValueError(f"not one of {', '.join(col.choices)}")
        if col.kind == "json":
            json.loads(text)
    except BadValue as exc:
        raise InvalidInputError(f"{flag}: {exc.reason}", field="--fill") from None
    except ValueError as exc:
        reason = str(exc)
        if reason.startswith(("invalid literal", "could not convert")):
            reason = f"not {kind_names.get(col.kind, 'valid JSON')}"
        raise InvalidInputError(f"{flag}: {reason}", field="--fill") from None
    return text


# --------------------------------------------------------------------------- the decisions


def _count(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> int:
    (value,) = conn.execute(sql, params).fetchone()
    return int(value)


def _nonnull(conn: sqlite3.Connection, table: SourceTable, column: str) -> int:
    return _count(conn, f"SELECT count({quote_ident(column)}) FROM {table.sql_name}")  # noqa: S608


class _Builder:
    """Makes the decisions in a fixed order: names, risk groups, renames, accounting, maps."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        schema: SourceSchema,
        options: LineageOptions,
        run: RunIdentity,
    ) -> None:
        self.conn = conn
        self.schema = schema
        self.options = options
        self.run = run
        self.specs = {s.name: s for s in table_specs()}
        self.left_tables: set[str] = set()
        self.left_columns: set[tuple[str, str]] = set()
        self.warnings: list[str] = []
        self.advice: list[str] = []
        self.notes: list[str] = []
        self.archive: list[ArchiveItem] = []
        self.risk_groups: list[RiskGroupDecision] = []
        self.fill_values: list[Any] = []
        self.left: dict[str, int] = {}
        self.unknown: dict[str, int] = {}
        self.missing: dict[str, int] = {}
        self.accounts: dict[str, SourceAccount] = {}
        self.groups = self._source_groups()
        self.stand_ins: list[StandIn] = []
        self.stand_in_sources: dict[str, tuple[str, list[str]]] = {}

    def source(self, name: str) -> SourceTable | None:
        """The source table a target table is read from (None: absent or left behind)."""
        found = self.schema.find(name)
        return None if found is None or found.name in self.left_tables else found

    # -- 1. the user's names ---------------------------------------------------------------

    def _source_groups(self) -> dict[str, str]:
        """id -> id and name -> id of the source's risk groups."""
        table = self.schema.find(RISK_GROUP_TABLE)
        if table is None or table.find("id") is None or table.find("name") is None:
            return {}
        out: dict[str, str] = {}
        query = f'SELECT "id", "name" FROM {table.sql_name} ORDER BY rowid'  # noqa: S608
        for row_id, name in self.conn.execute(query):
            if isinstance(row_id, str):
                out[row_id] = row_id
                if isinstance(name, str):
                    out.setdefault(name, row_id)
        return out

    def check_leave_behind(self) -> None:
        for key in self.options.leave_behind:
            table_name, column = _split_key(key, "--leave-behind")
            table = self.schema.find(table_name)
            if table is None:
                self.warnings.append(f"--leave-behind {key}: the source has no table {table_name}")
                continue
            if column is None:
                self.left_tables.add(table.name)
                continue
            found = table.find(column)
            if found is None:
                self.warnings.append(f"--leave-behind {key}: {table.name} has no column {column}")
                continue
            target = self.specs.get(table.name) or self.specs.get(table_name)
            if target is not None and found.name.lower() in {
                c.lower() for c in target.column_names
            }:
                raise InvalidInputError(
                    f"--leave-behind {key}: {column} is a column of the target table "
                    f"{target.name}; only tables, or columns the target has no place for, "
                    "can be left behind",
                    field="--leave-behind",
                )
            self.left_columns.add((table.name, found.name))

    # -- 2. risk groups from the init-era universe.risk_group ------------------------------

    def decide_risk_groups(self) -> None:
        universe = self.source("universe")
        if universe is None:
            if self.options.risk_group_map:
                self.warnings.append("--map-risk-group: the source has no universe table")
            return
        old = universe.find("risk_group")
        if old is None or universe.find("risk_group_id") is not None:
            if self.options.risk_group_map:
                self.warnings.append(
                    "--map-risk-group is ignored: the source's universe has risk_group_id "
                    "already (it is from after the application's migration "
                    f"{migration_name(2)})"
                )
            return
        distinct = self.conn.execute(
            f"SELECT {quote_ident(old.name)}, count(*) FROM {universe.sql_name} "  # noqa: S608
            f"WHERE {quote_ident(old.name)} IS NOT NULL GROUP BY 1 ORDER BY 1"
        ).fetchall()
        wanted_by_key = {k.strip(): v for k, v in self.options.risk_group_map.items()}
        names = {i: n for n, i in self.groups.items() if n != i}  # id -> name
        for value, rows in distinct:
            key = _value_key(value)
            wanted = wanted_by_key.get(key)
            name = wanted if wanted is not None else f"risk group {key}"
            existing = self.groups.get(name)
            if existing is not None:
                name = names.get(existing, name)
            group_id = existing or str(uuid.uuid5(RMS_NAMESPACE, f"risk_group:{name}"))
            self.risk_groups.append(
                RiskGroupDecision(
                    value, group_id, name, existing is None, wanted is not None, int(rows)
                )
            )
        used = {_value_key(g.old_value) for g in self.risk_groups}
        for key, wanted in wanted_by_key.items():
            if key not in used:
                self.warnings.append(
                    f"--map-risk-group {key}={wanted}: no universe row has the old risk_group {key}"
                )
        self._warn_created_groups()

    def _warn_created_groups(self) -> None:
        created: dict[str, list[RiskGroupDecision]] = {}
        for decision in self.risk_groups:
            if decision.created:
                created.setdefault(decision.name, []).append(decision)
        for name, decisions in created.items():
            olds = ", ".join(_value_key(d.old_value) for d in decisions)
            rows = sum(d.rows for d in decisions)
            if all(d.mapped for d in decisions):
                advice = "the name you gave with --map-risk-group"
            else:
                advice = (
                    "rename it in the application, or run again with --map-risk-group "
                    f"{decisions[0].old_value!s}=NAME to use a group of your choosing"
                )
            self.advice.append(
                f"created risk group {name!r} for {rows} universe row(s) whose init-era "
                f"risk_group was {olds} (the application's migration {migration_name(2)} "
                f"replaced that number by a risk_group row): {advice}"
            )

    # -- 2b. stand-ins for ids the source references but does not hold --------------------

    def decide_stand_ins(self) -> None:
        wanted = []
        for name in self.options.stand_ins:
            table = next((t for t in STAND_IN_TABLES if t.lower() == name.strip().lower()), None)
            if table is None:
                raise InvalidInputError(
                    f"--stand-in {name}: stand-ins can be made for "
                    + ", ".join(STAND_IN_TABLES)
                    + " (a symbol, an account, a deposit type, a risk group)",
                    field="--stand-in",
                )
            wanted.append(table)
        # Symbols first: a stand-in symbol needs a risk group.
        for table in sorted(set(wanted), key=list(STAND_IN_TABLES).index):
            made = self._stand_ins_for(table)
            if not made:
                self.warnings.append(
                    f"--stand-in {table}: every {table} id the source references is in it; "
                    "no stand-in was needed"
                )
            self.stand_ins += made
            if table == "universe" and made:
                group_id = str(uuid.uuid5(RMS_NAMESPACE, f"stand-in:{STAND_IN_SYMBOLS_GROUP}"))
                self.stand_ins.append(
                    StandIn(
                        RISK_GROUP_TABLE,
                        group_id,
                        STAND_IN_SYMBOLS_GROUP,
                        {"universe.risk_group_id (stand-ins)": len(made)},
                    )
                )
        by_table: dict[str, list[StandIn]] = {}
        for stand_in in self.stand_ins:
            by_table.setdefault(stand_in.table, []).append(stand_in)
        for table, made in by_table.items():
            column = STAND_IN_TABLES[table][0]
            labels = ", ".join(repr(s.label) for s in made[:5])
            more = f" and {len(made) - 5} more" if len(made) > 5 else ""
            if made[0].label == STAND_IN_SYMBOLS_GROUP:
                why = "for the stand-in symbols (a symbol needs a risk group)"
            else:
                rows = sum(n for s in made for n in s.referenced_by.values())
                why = f"for {rows} reference(s) to ids the source does not hold"
            self.advice.append(
                f"created {len(made)} stand-in {table} row(s) ({column} {labels}{more}) {why}: "
                "correct or replace them in the application (the report lists each with the "
                "rows that reference it)"
            )

    def _stand_ins_for(self, table: str) -> list[StandIn]:
        parent_spec = self.specs[table]
        parent = self.source(table)
        pk = parent.find(parent_spec.pk) if parent is not None else None
        found: dict[str, dict[str, int]] = {}
        for spec in self.specs.values():
            for column, target in spec.fks:
                child = self.source(spec.name) if target == table else None
                child_col = child.find(column) if child is not None else None
                if child is None or child_col is None:
                    continue
                col = quote_ident(child_col.name)
                query = f"SELECT {col}, count(*) FROM {child.sql_name} WHERE {col} IS NOT NULL"  # noqa: S608
                if parent is not None and pk is not None:
                    key = quote_ident(pk.name)
                    query += (
                        f" AND {col} NOT IN (SELECT {key} FROM {parent.sql_name} "  # noqa: S608
                        f"WHERE {key} IS NOT NULL)"
                    )
                for value, rows in self.conn.execute(query + " GROUP BY 1 ORDER BY 1"):
                    if isinstance(value, str) and value:
                        found.setdefault(value, {})[f"{spec.name}.{column}"] = int(rows)
        pattern = STAND_IN_TABLES[table][1]
        return [
            StandIn(table, row_id, pattern.format(id=row_id), refs)
            for row_id, refs in sorted(found.items())
        ]

    # -- 3. values the application renamed -------------------------------------------------

    def decide_renames(self) -> None:
        for (table_name, column), (renames, number) in RENAMED_VALUES.items():
            table = self.source(table_name)
            found = table.find(column) if table is not None else None
            if table is None or found is None:
                continue
            olds = tuple(renames)
            count = _count(
                self.conn,
                f"SELECT count(*) FROM {table.sql_name} "  # noqa: S608
                f"WHERE {quote_ident(found.name)} IN ({', '.join('?' for _ in olds)})",
                olds,
            )
            if count:
                self.archive.append(
                    ArchiveItem(
                        table.name,
                        found.name,
                        count,
                        f"the application's migration {migration_name(number)} renamed "
                        + ", ".join(f"{a} to {b}" for a, b in renames.items()),
                        only_values=olds,
                    )
                )

    # -- 4. every source table and column --------------------------------------------------

    def account(self) -> None:
        for name, table in self.schema.tables.items():
            if name in self.left_tables:
                self.accounts[name] = SourceAccount(name, table.rows, "left behind")
                self.left[name] = table.rows
                continue
            spec = self.specs.get(name) or next(
                (s for s in self.specs.values() if s.name.lower() == name.lower()), None
            )
            if spec is not None:
                self._account_columns(table, spec)
                continue
            if name in OWN_BOOKKEEPING_TABLES:
                # The file's own schema revision: the target has its own (not carried).
                self.accounts[name] = SourceAccount(name, table.rows, "bookkeeping")
                continue
            dropped = DROPPED_TABLES.get(name)
            if dropped is not None or name in BOOKKEEPING_TABLES:
                why = (
                    f"dropped by the application's migration {migration_name(dropped)}"
                    if dropped is not None
                    else "Prisma's migration bookkeeping (it describes the SQLite schema)"
                )
                self.accounts[name] = SourceAccount(name, table.rows, "archived")
                if table.rows:
                    self.archive.append(ArchiveItem(name, None, table.rows, why))
                continue
            self.accounts[name] = SourceAccount(name, table.rows, "unknown")
            self.unknown[name] = table.rows

    def _account_columns(self, table: SourceTable, spec: TableSpec) -> None:
        account = SourceAccount(table.name, table.rows, "carried", spec.name)
        carried = {c.lower() for c in spec.column_names}
        for column in table.columns:
            key = f"{table.name}.{column.name}"
            if column.name.lower() in carried:
                account.columns[column.name] = "carried"
            elif (table.name, column.name) in self.left_columns:
                account.columns[column.name] = "left behind"
                self.left[key] = _nonnull(self.conn, table, column.name)
            elif (spec.name, column.name) in DROPPED_COLUMNS:
                dropped = DROPPED_COLUMNS[(spec.name, column.name)]
                account.columns[column.name] = (
                    "archived; its values chose universe.risk_group_id"
                    if column.name == "risk_group" and self.risk_groups
                    else "archived"
                )
                if table.rows:
                    self.archive.append(
                        ArchiveItem(
                            table.name,
                            column.name,
                            table.rows,
                            f"dropped by the application's migration {migration_name(dropped)}",
                        )
                    )
            else:
                account.columns[column.name] = "unknown"
                self.unknown[key] = _nonnull(self.conn, table, column.name)
        self.accounts[table.name] = account

    # -- 5. target tables ------------------------------------------------------------------

    def mappings(self) -> list[TableMapping]:
        return [self._map(spec, self.source(spec.name)) for spec in table_specs()]

    def _map(self, spec: TableSpec, found: SourceTable | None) -> TableMapping:
        extra = sum(1 for s in self.stand_ins if s.table == spec.name)
        if spec.name == RISK_GROUP_TABLE and (extra or any(g.created for g in self.risk_groups)):
            created = len({g.group_id for g in self.risk_groups if g.created})
            why = "risk groups created by the run" + (
                f" ({extra} of them stand-ins)" if extra else ""
            )
            return self._derived_mapping(spec, found, T_RISK_GROUP, created + extra, why)
        if spec.name == ARCHIVE_TABLE and self.archive:
            return self._derived_mapping(
                spec, found, T_ARCHIVE, self.archived_total, "values archived by the run"
            )
        overrides: dict[str, ColumnOverride] = {}
        if found is not None:
            overrides |= self._derived_overrides(spec, found)
        for key, text in self.options.fills.items():
            table_name, _, column = key.partition(".")
            if table_name != spec.name:
                continue
            if found is not None and found.find(column) is not None:
                raise InvalidInputError(
                    f"--fill {key}: the source has the column {found.name}.{column}; --fill only "
                    "supplies a column the source lacks",
                    field="--fill",
                )
            overrides[column] = self._fill_override(spec, column, text)
        mapping = map_table(spec, found, self.run.run_start_ms, overrides)
        for column in mapping.missing:
            self._missing(spec, found, column)
        if extra:
            if found is not None:
                self.stand_in_sources[spec.name] = (found.sql_name, list(mapping.select))
            return self._derived_mapping(
                spec, found, stand_in_relation(spec.name), extra, "stand-ins made by the run"
            )
        return mapping

    def _derived_overrides(self, spec: TableSpec, found: SourceTable) -> dict[str, ColumnOverride]:
        out: dict[str, ColumnOverride] = {}
        if spec.name == "universe" and self.risk_groups:
            old = quote_ident(found.find("risk_group").name)  # type: ignore[union-attr]
            out["risk_group_id"] = ColumnOverride(
                f"(SELECT id FROM {T_RISK_MAP} WHERE old = {old})",  # noqa: S608
                "derived",
                f"from the init-era {found.name}.risk_group",
            )
        for (table_name, column), (renames, _number) in RENAMED_VALUES.items():
            source_col = found.find(column)
            if table_name != spec.name or source_col is None:
                continue
            col = quote_ident(source_col.name)
            cases = " ".join(f"WHEN {_sql_text(a)} THEN {_sql_text(b)}" for a, b in renames.items())
            out[column] = ColumnOverride(
                f"CASE {col} {cases} ELSE {col} END",
                "carried",
                "read with the application's rename "
                + ", ".join(f"{a} -> {b}" for a, b in renames.items()),
            )
        return out

    def _fill_override(self, spec: TableSpec, column: str, text: str) -> ColumnOverride:
        if column not in spec.column_names:
            raise InvalidInputError(
                f"--fill {spec.name}.{column}={text}: the target table {spec.name} has no "
                f"column {column}",
                field="--fill",
            )
        groups = dict(self.groups)
        for decision in self.risk_groups:
            groups.setdefault(decision.name, decision.group_id)
            groups.setdefault(decision.group_id, decision.group_id)
        self.fill_values.append(_parse_fill(spec, column, text, groups))
        expr = f"(SELECT v FROM {T_VALUES} WHERE rowid = {len(self.fill_values)})"  # noqa: S608
        return ColumnOverride(expr, "filled", text)

    def _derived_mapping(
        self, spec: TableSpec, found: SourceTable | None, relation: str, added: int, why: str
    ) -> TableMapping:
        """Rows of a TEMP table: the source's own rows of ``spec`` plus the run's rows."""
        rows = (found.rows if found else 0) + added
        mapping = map_table(spec, None, self.run.run_start_ms)
        mapping.source = SourceTable(spec.name, [], rows, relation=relation)
        mapping.select = [quote_ident(c) for c in spec.column_names]
        mapping.carried = list(spec.column_names)
        if found is not None:
            inner = map_table(spec, found, self.run.run_start_ms)
            mapping.defaulted = dict(inner.defaulted)
        mapping.derived = {"*": f"{added} {why}"}
        return mapping

    def _missing(self, spec: TableSpec, found: SourceTable | None, column: str) -> None:
        if found is None or found.rows == 0:
            return  # no row needs a value: the application's own migration ran here too
        key = f"{spec.name}.{column}"
        self.missing[key] = found.rows
        if self.options.quarantine:
            number = ADDED_WITHOUT_DEFAULT.get((spec.name, column))
            since = (
                f"added without a default by the application's migration {migration_name(number)}"
                if number
                else "required by the target, with no default"
            )
            self.warnings.append(
                f"{found.name} has {found.rows} row(s) but no column {column} ({since}): they "
                f"are quarantined, not loaded; --fill {key}=VALUE would load them with that value"
            )

    @property
    def archived_total(self) -> int:
        return sum(item.count for item in self.archive)


def _show_default(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value == "run start":
        return "the run's start instant"
    return repr(value)


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def build_lineage(
    conn: sqlite3.Connection,
    schema: SourceSchema,
    options: LineageOptions,
    run: RunIdentity,
) -> Lineage:
    """Every decision about the file, read through ``conn`` (the file's own tables only).

    Raises :class:`SchemaMismatchError` for a required column without a value on a table
    with rows (unless quarantining), and :class:`rms.errors.InvalidInputError` for an option
    that names what is not there; unknown tables and columns are returned in ``unknown``
    (the caller fails on them: ``verify`` words it differently from ``migrate``).
    """
    builder = _Builder(conn, schema, options, run)
    builder.check_leave_behind()
    builder.decide_risk_groups()
    builder.decide_stand_ins()
    builder.decide_renames()
    builder.account()
    mappings = builder.mappings()
    if builder.missing and not options.quarantine:
        raise SchemaMismatchError(_missing_message(builder.missing))
    for mapping in mappings:
        if mapping.source is None or not mapping.source.rows:
            continue
        for column, default in mapping.defaulted.items():
            builder.notes.append(
                f"{mapping.spec.name}.{column}: absent from the source, its "
                f"{mapping.source.rows} row(s) get the default {_show_default(default)}"
            )
        for column, text in mapping.filled.items():
            builder.notes.append(
                f"{mapping.spec.name}.{column}: absent from the source, its "
                f"{mapping.source.rows} row(s) are filled with {text!r} (--fill)"
            )
    return Lineage(
        mappings=mappings,
        accounts=builder.accounts,
        archive=builder.archive,
        risk_groups=builder.risk_groups,
        left_behind=builder.left,
        unknown=builder.unknown,
        missing=builder.missing,
        warnings=builder.warnings,
        notes=builder.notes,
        advice=builder.advice,
        point=history_point(schema),
        fill_values=builder.fill_values,
        source_groups=builder.groups,
        stand_ins=builder.stand_ins,
        stand_in_sources=builder.stand_in_sources,
    )


def _missing_message(missing: Mapping[str, int]) -> str:
    lines = []
    for key, rows in missing.items():
        table, column = key.split(".", 1)
        number = ADDED_WITHOUT_DEFAULT.get((table, column))
        since = (
            f" (the application's migration {migration_name(number)} added it without a "
            "default, so its own migration could not run on a table with rows)"
            if number
            else " (the target requires it, and it has no default)"
        )
        lines.append(f"{table}: {rows} row(s) have no {column}{since}")
    fills = " ".join(f"--fill {key}=VALUE" for key in missing)
    return (
        "the source lacks required values, and inventing them is not ours to do (nothing was "
        "written)\n  " + "\n  ".join(lines) + f"\nways out: {fills} (every such row gets that "
        "value, recorded in the report and the ledger), or --on-error quarantine (those rows "
        "are set aside whole in the quarantine file, not loaded)"
    )


# --------------------------------------------------------------------------- the run's rows


def _archived_json(value: Any, declared_type: str) -> str:
    """A value as the archive keeps it: JSON of its own type (0/1 of a BOOLEAN as false/true)."""
    if declared_type.upper() == "BOOLEAN" and type(value) is int and value in (0, 1):
        return json.dumps(bool(value))
    return json.dumps(jsonable(value), ensure_ascii=False, allow_nan=False)


def _row_json(raw: Sequence[Any]) -> str:
    return json.dumps([jsonable(v) for v in raw], ensure_ascii=False, allow_nan=False)


def _row_id_text(row_id: Any) -> str | None:
    """``rms_archive.row_id`` (TEXT): the archived row's id as text, if it has one."""
    if row_id is None or isinstance(row_id, str):
        return row_id
    return str(jsonable(row_id))


def _row_key(row_id: Any, row_json: str) -> str:
    return row_id if isinstance(row_id, str) else f"row:{row_json}"


def archive_rows(
    source_rows: Iterable[tuple[ArchiveItem, SourceTable, Sequence[Any]]], run: RunIdentity
) -> Iterator[tuple[Any, ...]]:
    """The ``rms_archive`` rows of archived source rows (each with its item and table, all
    the table's columns in order), in order: id, origin, table_name, row_id, column_name,
    value, archived_at. The ids are UUID 5 of the run, the row and the column, so ``verify``
    recomputes them."""
    seen: dict[str, int] = {}
    layouts: dict[str, tuple[list[SourceColumn], dict[str, int], SourceColumn | None]] = {}
    for item, table, raw in source_rows:
        if table.name not in layouts:
            columns = list(table.columns)
            index = {c.name: i for i, c in enumerate(columns)}
            layouts[table.name] = (columns, index, table.find("id"))
        columns, index, id_column = layouts[table.name]
        row_id = raw[index[id_column.name]] if id_column is not None else None
        if item.column is None:
            whole = {
                c.name: json.loads(_archived_json(raw[i], c.declared_type))
                for i, c in enumerate(columns)
            }
            value = json.dumps(whole, ensure_ascii=False, sort_keys=True)
            column_name = None
        else:
            source_col = table.find(item.column)
            assert source_col is not None
            value = _archived_json(raw[index[source_col.name]], source_col.declared_type)
            column_name = source_col.name
        row_json = value if item.column is None else _row_json(raw)
        key = _row_key(row_id, row_json)
        name = "\x1f".join([run.run_id, table.name, key, column_name or "*"])
        occurrence = seen.get(name, 0)
        seen[name] = occurrence + 1
        archive_id = uuid.uuid5(RMS_NAMESPACE, f"{name}\x1f{occurrence}")
        yield (
            str(archive_id),
            run.origin,
            table.name,
            _row_id_text(row_id),
            column_name,
            value,
            run.run_start_ms,
        )


def stand_in_row(
    spec: TableSpec, stand_in: StandIn, symbols_group: str | None, run: RunIdentity
) -> list[Any]:
    """A stand-in row of ``spec``, its values in column order: the id, the naming column,
    the run's start for the instants, each column's default, and zero for a required number
    (a stand-in symbol's prices: the owner corrects them); a stand-in symbol belongs to
    ``symbols_group``."""
    naming = STAND_IN_TABLES[spec.name][0]
    values: list[Any] = []
    for col in spec.columns:
        if col.name == spec.pk:
            value: Any = stand_in.row_id
        elif col.name == naming:
            value = stand_in.label
        elif spec.name == "universe" and col.name == "risk_group_id":
            value = symbols_group
        elif col.has_default:
            value = run.run_start_ms if col.default == RUN_START else col.default
        elif col.kind == "float":
            value = 0.0
        elif col.kind in ("int", "bool"):
            value = 0
        elif col.kind == "datetime":
            value = run.run_start_ms
        else:
            value = ""
        values.append(int(value) if isinstance(value, bool) else value)
    return values
