"""Read one source table, convert every row exactly, and sort good rows from bad ones.

Shared by the loader (which streams good rows into COPY) and by ``verify`` (which only
digests them), so both apply the same rules and the same notion of which rows belong in
the target. A row is bad when a value cannot be converted, a NOT NULL column is NULL, a
unique value repeats (the first row, in rowid order, keeps it), or a reference names a row
that does not exist in the target: absent from the source, or itself set aside (the
cascade: rows that reference quarantined rows are quarantined too, parents being scanned
first, so every foreign key of a loaded row resolves).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rms.migrate.convert import BadValue, converter
from rms.migrate.fastpath import row_function
from rms.migrate.report import Problem
from rms.migrate.sqlite import SourceTable, iter_rows
from rms.transfer.digest import TableDigest
from rms.transfer.spec import RUN_START, TableSpec
from rms.transfer.sqlite import quote_ident

if TYPE_CHECKING:
    from rms.migrate.parallel import ConverterPool

__all__ = [
    "ColumnOverride",
    "ScanContext",
    "TableMapping",
    "TableScanResult",
    "map_table",
    "scan_table",
]

#: Detailed problems kept in memory (the count of all of them is always exact).
MAX_PROBLEMS = 100_000
#: How often (rows) the observer hears about progress.
PROGRESS_EVERY = 10_000
#: Tables with fewer rows are converted in the loading process (a chunk's round trip to a
#: worker costs more than it saves).
PARALLEL_MIN_ROWS = 100_000


@dataclass(frozen=True)
class ColumnOverride:
    """A target column read through an SQL expression instead of a source column of its name.

    ``kind`` says where its values come from (``filled``: a value the user gave;
    ``derived``: computed from other source values; ``carried``: the source column, read
    with a rewrite) and ``detail`` says how, for the report.
    """

    expr: str
    kind: str
    detail: str


@dataclass
class TableMapping:
    """How one target table is read from the source: the SELECT list, and what each target
    column comes from (carried, defaulted, filled, derived; ``missing``: required, with no
    default and no value: the rows are bad unless someone decides)."""

    spec: TableSpec
    source: SourceTable | None
    select: list[str]
    defaulted: dict[str, Any]
    extra_columns: list[str]
    carried: list[str] = field(default_factory=list)
    filled: dict[str, str] = field(default_factory=dict)
    derived: dict[str, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    overrides: dict[str, ColumnOverride] = field(default_factory=dict)


def _literal(value: Any, run_start_ms: int) -> str:
    if value is RUN_START or value == RUN_START:
        return str(run_start_ms)
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    raise TypeError(f"no SQL literal for default {value!r}")


def map_table(
    spec: TableSpec,
    source: SourceTable | None,
    run_start_ms: int,
    overrides: dict[str, ColumnOverride] | None = None,
) -> TableMapping:
    """Missing columns become literal defaults in the SELECT, so conversion stays uniform.

    A required column the source lacks, with no default and no override, is selected as
    NULL and listed in ``missing``: every row then fails as "NULL in a NOT NULL column"
    (:mod:`rms.migrate.lineage` decides before that whether the run may go on).
    """
    overrides = overrides or {}
    select: list[str] = []
    defaulted: dict[str, Any] = {}
    if source is None:
        return TableMapping(spec, None, [], {}, [])
    mapping = TableMapping(spec, source, select, defaulted, [])
    used = set()
    for col in spec.columns:
        override = overrides.get(col.name)
        found = source.find(col.name)
        if found is not None:
            used.add(found.name)
        if override is not None:
            select.append(override.expr)
            mapping.overrides[col.name] = override
            if override.kind == "filled":
                mapping.filled[col.name] = override.detail
            elif override.kind == "derived":
                mapping.derived[col.name] = override.detail
            else:
                mapping.carried.append(col.name)
            continue
        if found is not None:
            select.append(quote_ident(found.name))
            mapping.carried.append(col.name)
            continue
        if not col.has_default:
            select.append("NULL")
            mapping.missing.append(col.name)
            continue
        select.append(_literal(col.default, run_start_ms))
        defaulted[col.name] = "run start" if col.default == RUN_START else col.default
    mapping.extra_columns = [c.name for c in source.columns if c.name not in used]
    return mapping


@dataclass
class ScanContext:
    """State shared across the tables of one scan: loaded ids of referenced tables."""

    quarantine: bool
    loaded_ids: dict[str, set[Any]] = field(default_factory=dict)
    #: How a reference to an id that is not there is explained (a quarantine file's load
    #: says "neither in the target nor in this file").
    missing_reference: str = "which does not exist in the source or was set aside"
    #: The run proves the source's indexes consistent with its tables before it commits
    #: (the full integrity_check of the backup, which verifies UNIQUE constraints), so a
    #: column under a unique index of its own needs no duplicate search.
    unique_indexes_checked: bool = False
    problems: list[Problem] = field(default_factory=list)
    problems_total: int = 0

    def add_problem(self, problem: Problem) -> None:
        self.problems_total += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


@dataclass
class TableScanResult:
    read: int = 0
    good: int = 0
    bad: int = 0
    digest: TableDigest = field(default_factory=TableDigest)
    bad_rowids: set[int] = field(default_factory=set)


BadRowSink = Callable[[TableMapping, tuple[Any, ...], list[Problem]], None]


def duplicate_values(
    conn: sqlite3.Connection, mapping: TableMapping, unique_indexes_checked: bool = False
) -> dict[int, set[Any]]:
    """Per unique text column (by position), the raw values that occur more than once.

    Found by SQLite itself (GROUP BY on the raw value), so duplicates of a million-row
    table are found without holding its ids in Python memory. With
    ``unique_indexes_checked`` (:attr:`ScanContext.unique_indexes_checked`), a column the
    source's own unique index covers is not searched (see below).
    """
    out: dict[int, set[Any]] = {}
    assert mapping.source is not None
    unique = _unique_binary_columns(conn, mapping.source) if unique_indexes_checked else set()
    for index, col in enumerate(mapping.spec.columns):
        if not col.unique or col.kind != "text" or col.name in mapping.defaulted:
            continue
        expr = mapping.select[index]
        if expr in unique:
            # The source's own unique index on that very column holds no two equal values
            # (the same BINARY comparison as the GROUP BY below, which SQLite answers by
            # scanning that index anyway); the index's consistency with the table and its
            # UNIQUE constraint are proven by the full integrity_check of the backup, joined
            # before COMMIT (docs/benchmarks.md, issue 31, step 5).
            continue
        query = (
            f"SELECT {expr} FROM {mapping.source.sql_name} "  # noqa: S608
            f"WHERE {expr} IS NOT NULL GROUP BY {expr} COLLATE BINARY HAVING count(*) > 1"
        )
        dups = {r[0] for r in conn.execute(query)}
        if dups:
            out[index] = dups
    return out


def _unique_binary_columns(conn: sqlite3.Connection, table: SourceTable) -> set[str]:
    """The source table's columns (quoted, as a mapping selects them) that a complete
    (not partial) UNIQUE or PRIMARY KEY index of their own, BINARY collation, covers."""
    if table.relation is not None:
        return set()  # rows come from a derived TEMP table, not from the file's table
    name = quote_ident(table.name)
    out: set[str] = set()
    for _seq, index, is_unique, _origin, partial in conn.execute(f"PRAGMA index_list({name})"):
        if not is_unique or partial:
            continue
        keys = [
            (column, collation)
            for _rank, _cid, column, _desc, collation, key in conn.execute(
                f"PRAGMA index_xinfo({quote_ident(index)})"
            )
            if key
        ]
        if len(keys) == 1 and keys[0][0] is not None and keys[0][1].upper() == "BINARY":
            out.add(quote_ident(keys[0][0]))
    return out


def scan_table(
    conn: sqlite3.Connection,
    mapping: TableMapping,
    ctx: ScanContext,
    write: Callable[[bytes], None] | None,
    on_bad: BadRowSink | None = None,
    on_progress: Callable[[int], None] | None = None,
    pool: ConverterPool | None = None,
    parallel_min_rows: int = PARALLEL_MIN_ROWS,
) -> TableScanResult:
    """Convert every row of one table; good rows go to ``write`` (binary COPY rows) and
    into the digest, bad rows to ``on_bad`` with every problem they have.

    With a ``pool``, a big table whose rows can be judged one by one is first converted in
    chunks by its workers (:mod:`rms.migrate.parallel`), in rowid order; from the first
    chunk a worker gave up (or after the last one) this scan goes on row by row, so every
    row is judged by the same rules whichever process converted it.
    """
    spec = mapping.spec
    result = TableScanResult()
    if mapping.source is None:
        if spec.referenced:
            ctx.loaded_ids[spec.name] = set()
        return result
    checker = _RowChecker(conn, mapping, ctx)
    convert_row = row_function(
        spec, {col: ctx.loaded_ids.get(parent, set()) for col, parent in spec.fks}
    )
    pk_index = spec.column_names.index(spec.pk)
    keep_ids: set[Any] | None = set() if spec.referenced else None
    rare_checks = checker.has_unique_checks
    total = 0
    good = 0
    read = 0
    countdown = PROGRESS_EVERY
    writing = True
    after: int | None = None
    source = mapping.source
    if (
        pool is not None
        and source.rows >= parallel_min_rows
        and source.has_rowid
        and source.relation is None
        and not mapping.overrides
        and not rare_checks
    ):
        from rms.migrate.parallel import chunk_ranges  # loaded with the pool (multiprocessing)

        references = {col: ctx.loaded_ids.get(parent, set()) for col, parent in spec.fks}
        ranges = chunk_ranges(conn, source.sql_name, source.rows)
        chunks = pool.chunks(
            spec.name, mapping.select, source.sql_name, references, keep_ids is not None, ranges
        )
        for chunk in chunks:
            if chunk.data is None:
                break
            after = chunk.high
            read += chunk.rows
            good += chunk.rows
            total += chunk.total
            if keep_ids is not None and chunk.ids is not None:
                keep_ids.update(chunk.ids)
            if write is not None and chunk.data:
                write(chunk.data)
            if on_progress is not None and chunk.rows:
                on_progress(chunk.rows)
    parallel_read = read
    for raw in iter_rows(conn, mapping.source, mapping.select, after=after):
        read += 1
        countdown -= 1
        if not countdown:
            countdown = PROGRESS_EVERY
            if on_progress is not None:
                on_progress(PROGRESS_EVERY)
        try:
            data, digest, row = convert_row(raw)
            problems = checker.unique_problems(raw, row) if rare_checks else None
        except BadValue:
            problems = checker.all_problems(raw)
        if problems:
            result.bad += 1
            result.bad_rowids.add(raw[0])
            for problem in problems:
                ctx.add_problem(problem)
            if on_bad is not None:
                on_bad(mapping, raw, problems)
            if not ctx.quarantine:
                writing = False
                # Keep the id as a known parent, so its children are not reported as well.
                if keep_ids is not None and raw[pk_index + 1] is not None:
                    keep_ids.add(raw[pk_index + 1])
            continue
        good += 1
        if keep_ids is not None:
            keep_ids.add(row[pk_index])
        if writing:
            total += digest
            if write is not None:
                write(data)
    if on_progress is not None and (read - parallel_read) % PROGRESS_EVERY:
        on_progress((read - parallel_read) % PROGRESS_EVERY)
    result.read = read
    result.good = good
    result.digest = TableDigest(good if writing else 0, total)
    if keep_ids is not None:
        ctx.loaded_ids[spec.name] = keep_ids
    return result


class _RowChecker:
    """The slow, thorough path: names every problem of a row (conversion, unique, reference).

    Only rows the fast path rejects come here, plus rows of tables with unique columns that
    need a check in Python (a duplicated text value found by SQLite, or an instant column).
    """

    def __init__(self, conn: sqlite3.Connection, mapping: TableMapping, ctx: ScanContext):
        spec = mapping.spec
        self.spec = spec
        self.names = spec.column_names
        self.pk_index = self.names.index(spec.pk)
        self.converters = list(enumerate((converter(c) for c in spec.columns), start=1))
        self.dups = duplicate_values(conn, mapping, ctx.unique_indexes_checked)
        self.seen_dups: dict[int, dict[Any, Any]] = {i: {} for i in self.dups}
        # Unique columns that are not plain text (an instant such as holidays.date) can
        # collide only after conversion; those tables are small, so a set is kept.
        self.converted_unique: dict[int, dict[Any, Any]] = {
            i: {}
            for i, c in enumerate(spec.columns)
            if c.unique and c.kind != "text" and c.name not in mapping.defaulted
        }
        self.missing_reference = ctx.missing_reference
        self.fk_checks = [
            (self.names.index(col), parent, ctx.loaded_ids.get(parent, set()))
            for col, parent in spec.fks
        ]
        self.has_unique_checks = bool(self.dups or self.converted_unique)
        self.missing = {self.names.index(c) for c in mapping.missing}

    def _problem(self, raw: tuple[Any, ...], row_id: Any, column: int, value: Any, why: str):  # type: ignore[no-untyped-def]
        return Problem(self.spec.name, row_id, self.names[column], value, why, raw[0])

    def unique_problems(self, raw: tuple[Any, ...], row: tuple[Any, ...]) -> list[Problem]:
        problems = []
        row_id = row[self.pk_index]
        for index, dupset in self.dups.items():
            value = row[index]
            if value in dupset:
                first, rowid = self.seen_dups[index].setdefault(value, (row_id, raw[0]))
                if rowid != raw[0]:
                    problems.append(
                        self._problem(
                            raw,
                            row_id,
                            index,
                            value,
                            f"duplicate value of a unique column (first held by id {first!r})",
                        )
                    )
        for index, values in self.converted_unique.items():
            value = row[index]
            if value is None:
                continue
            first, rowid = values.setdefault(value, (row_id, raw[0]))
            if rowid != raw[0]:
                problems.append(
                    self._problem(
                        raw,
                        row_id,
                        index,
                        raw[index + 1],
                        f"duplicate value of a unique column (the same instant as id {first!r})",
                    )
                )
        return problems

    def all_problems(self, raw: tuple[Any, ...]) -> list[Problem]:
        row_id = raw[self.pk_index + 1]
        problems = []
        row = []
        for i, conv in self.converters:
            try:
                row.append(conv(raw[i]))
            except BadValue as exc:
                reason = exc.reason
                if i - 1 in self.missing:
                    reason = (
                        "the source has no such column, and it is required with no default "
                        f"(--fill {self.spec.name}.{self.names[i - 1]}=VALUE would give one)"
                    )
                problems.append(self._problem(raw, row_id, i - 1, raw[i], reason))
                row.append(None)
        if problems:
            return problems
        for index, parent, ids in self.fk_checks:
            ref = row[index]
            if ref is not None and ref not in ids:
                problems.append(
                    self._problem(
                        raw,
                        row_id,
                        index,
                        ref,
                        f"references {parent} id {ref!r}, {self.missing_reference}",
                    )
                )
        return problems + self.unique_problems(raw, tuple(row))
