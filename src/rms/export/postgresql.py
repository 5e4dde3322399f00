"""The PostgreSQL side of an export: one read-only snapshot, checked, scanned, streamed.

Everything an export reads comes from **one** transaction opened ``REPEATABLE READ, READ
ONLY``: PostgreSQL then answers every statement of it from the same snapshot, so the rows of
every table, their counts and their checksums all describe one committed state of the
database, whatever the service commits meanwhile (a trade and the deposit written with it
are both in the file or neither is). Nothing is locked and no writer waits.

Values leave PostgreSQL through ``COPY (SELECT ...) TO STDOUT (FORMAT BINARY)``, ordered by
primary key (so SQLite appends to its key B-tree instead of inserting at random):

* text, integers, booleans in binary; ``double precision`` as its 8 bytes, so no digit is
  ever rounded through a decimal rendering;
* instants, ``timestamp(3)`` holding UTC, as the text form the file stores
  (``YYYY-MM-DDTHH:MM:SS.mmm+00:00``, see :mod:`rms.schema.types`), rendered by
  ``to_char`` on the server;
* JSON (``jsonb``) and the ``CusipCacheSource`` enum as their text.

The checksums on this side are computed **in SQL** by the server
(:func:`rms.transfer.postgresql.table_digest`), never from the values sent to the file, so a
bug in the writer cannot hide itself.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from typing import Any

from rms.db.pg import PgCursor, sql
from rms.export.check import json_as_stored
from rms.export.errors import ExportSourceError
from rms.export.report import ValueProblem
from rms.schema.core import SERVICE_STATE_TABLES
from rms.schema.head import stored_revision
from rms.transfer.digest import canonical_json
from rms.transfer.spec import ColumnSpec, Kind, TableSpec

__all__ = [
    "INSTANT_FORMAT",
    "SnapshotInfo",
    "check_schema",
    "find_problems",
    "open_snapshot",
    "stream_rows",
    "unknown_tables",
]

#: ``to_char`` pattern of the file's instant form (Prisma 7's, and our service's on SQLite).
INSTANT_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.MS"+00:00"'

#: information_schema ``data_type`` of each column kind, as revision 0002 creates them.
_PG_TYPES: dict[Kind, str] = {
    "text": "text",
    "int": "integer",
    "float": "double precision",
    "bool": "boolean",
    "datetime": "timestamp without time zone",
    "json": "jsonb",
    "enum": "USER-DEFINED",
}
#: The binary COPY type of each kind's SELECT expression (instants, JSON, enum go as text).
_COPY_TYPES: dict[Kind, str] = {
    "text": "text",
    "int": "int4",
    "float": "float8",
    "bool": "bool",
    "datetime": "text",
    "json": "text",
    "enum": "text",
}
#: Problems listed in the report (all of them are counted).
MAX_PROBLEMS = 10_000


@dataclass(frozen=True)
class SnapshotInfo:
    isolation: str
    read_only: str
    snapshot: str
    taken_at: str


def open_snapshot(cur: PgCursor) -> SnapshotInfo:
    """Settings of the export's transaction, and a description of its snapshot.

    The statement timeout of the service's sessions does not apply: streaming a large table
    is one statement; nor does an idle-in-transaction limit. The transaction must really be
    REPEATABLE READ and READ ONLY (the caller asked for both); anything else is refused
    rather than risk a torn copy.
    """
    cur.execute("SET LOCAL statement_timeout = 0")
    # The transaction waits while SQLite builds the indexes; a server-side idle limit must
    # not end it then.
    cur.execute("SET LOCAL idle_in_transaction_session_timeout = 0")
    cur.execute(
        "SELECT current_setting('transaction_isolation'), "
        "current_setting('transaction_read_only'), pg_current_snapshot()::text, "
        "to_char(now() AT TIME ZONE 'UTC', "
        '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\')'
    )
    row = cur.fetchone()
    assert row is not None
    info = SnapshotInfo(str(row[0]), str(row[1]), str(row[2]), str(row[3]))
    if info.isolation != "repeatable read" or info.read_only != "on":
        raise ExportSourceError(
            f"the export's transaction is {info.isolation}, read_only={info.read_only}; it must "
            "be repeatable read and read only to give one consistent snapshot"
        )
    return info


def check_schema(cur: PgCursor, specs: Sequence[TableSpec], head: str) -> str:
    """The source must be an RMS database at the schema head, column for column; returns its
    revision. Every difference is listed: a column the file has no place for would be lost."""
    cur.execute("SHOW server_encoding")
    row = cur.fetchone()
    encoding = str(row[0]) if row else "?"
    if encoding.upper() not in ("UTF8", "UTF-8"):
        raise ExportSourceError(
            f"the database uses the {encoding} encoding; only UTF8 text is known to be valid "
            "UTF-8, which SQLite text must be"
        )
    revision = stored_revision(cur)
    if revision != head:
        raise ExportSourceError(
            f"the database is at schema revision {revision or 'none (not an rms database?)'}, "
            f"this rms writes files at revision {head}: run `rms db upgrade` on it first"
        )
    cur.execute(
        "SELECT table_name, column_name, data_type, udt_name, datetime_precision, is_nullable "
        "FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = ANY(%s)",
        ([s.name for s in specs],),
    )
    actual: dict[str, dict[str, tuple[str, str, Any, str]]] = {}
    for table, column, data_type, udt, precision, nullable in cur.fetchall():
        actual.setdefault(table, {})[column] = (data_type, udt, precision, nullable)
    wrong: list[str] = []
    for spec in specs:
        columns = actual.get(spec.name)
        if columns is None:
            wrong.append(f"table {spec.name} is missing")
            continue
        for col in spec.columns:
            found_col = columns.get(col.name)
            if found_col is None:
                wrong.append(f"column {spec.name}.{col.name} is missing")
            else:
                wrong += _column_differences(spec.name, col, found_col)
        for extra in sorted(set(columns) - set(spec.column_names)):
            wrong.append(
                f"column {spec.name}.{extra} is not in the schema (its values would be lost)"
            )
    if wrong:
        raise ExportSourceError(
            "the database's tables differ from schema revision " + head + ": " + "; ".join(wrong)
        )
    return revision


def _column_differences(table: str, col: ColumnSpec, found: tuple[str, str, Any, str]) -> list[str]:
    data_type, udt, precision, nullable = found
    out = []
    expected = _PG_TYPES[col.kind]
    if data_type != expected or (col.kind == "enum" and udt != "CusipCacheSource"):
        out.append(f"column {table}.{col.name} is {data_type} ({udt}), expected {expected}")
    elif col.kind == "datetime" and precision != 3:
        out.append(f"column {table}.{col.name} is timestamp({precision}), expected timestamp(3)")
    if (nullable == "YES") != col.nullable:
        out.append(
            f"column {table}.{col.name} is {'' if nullable == 'YES' else 'NOT '}NULL-able "
            f"unlike the schema"
        )
    return out


def unknown_tables(cur: PgCursor, specs: Sequence[TableSpec]) -> dict[str, int]:
    """Tables of the schema that are not RMS tables (not exported), with their row counts.

    Our own bookkeeping (``alembic_version``: the file gets its own) and the service's own
    state (``rms_session``: sign-in sessions belong to the database they were made in) are
    RMS tables that are not exported either, and not listed."""
    known = [s.name for s in specs] + ["alembic_version", *sorted(SERVICE_STATE_TABLES)]
    cur.execute(
        "SELECT relname FROM pg_class WHERE relkind IN ('r', 'p') "
        "AND relnamespace = current_schema()::regnamespace AND NOT relname = ANY(%s) ORDER BY 1",
        (known,),
    )
    names = [str(r[0]) for r in cur.fetchall()]
    counts: dict[str, int] = {}
    for name in names:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(name)))
        row = cur.fetchone()
        counts[name] = int(row[0]) if row else 0
    return counts


# -- values SQLite cannot hold exactly ----------------------------------------------------


def _bad_condition(col: ColumnSpec) -> sql.Composable | None:
    c = sql.Identifier(col.name)
    if col.kind == "datetime":
        return sql.SQL("(NOT isfinite({c}) OR {c} < '0001-01-01' OR {c} >= '10000-01-01')").format(
            c=c
        )
    if col.kind == "float":
        # NaN becomes NULL in SQLite; -0.0 in a REAL column is stored as the integer 0.
        return sql.SQL("({c} = 'NaN' OR float8send({c}) = '\\x8000000000000000'::bytea)").format(
            c=c
        )
    if col.kind == "json":
        return sql.SQL("jsonb_typeof({c}) = 'number'").format(c=c)
    return None


def _float_reason(text: str) -> str:
    if text == "NaN":
        return "NaN: SQLite stores NaN as NULL"
    return "-0.0: a SQLite REAL column stores it as 0.0 (the sign is lost)"


def _json_number_kept(text: str, probe: sqlite3.Connection) -> bool:
    """Whether a bare JSON number survives a SQLite ``JSON`` column (NUMERIC affinity turns
    it into INTEGER or REAL), found by storing it in one and comparing the two as JSON."""
    probe.execute("DELETE FROM probe")
    probe.execute("INSERT INTO probe VALUES (?)", (text,))
    (stored,) = probe.execute("SELECT v FROM probe").fetchone()
    return json_as_stored(stored) == canonical_json(text)


def find_problems(cur: PgCursor, specs: Sequence[TableSpec]) -> tuple[list[ValueProblem], int]:
    """Every value the file could not hold exactly, and how many there are in all."""
    problems: list[ValueProblem] = []
    total = 0
    probe = sqlite3.connect(":memory:")
    probe.execute("CREATE TABLE probe (v JSON)")  # the affinity of the file's JSON columns
    try:
        for spec in specs:
            checked = [(c, cond) for c in spec.columns if (cond := _bad_condition(c)) is not None]
            if not checked:
                continue
            statement = sql.SQL(
                'SELECT {pk}::text, {cols} FROM {t} WHERE {where} ORDER BY {pk} COLLATE "C"'
            ).format(
                pk=sql.Identifier(spec.pk),
                cols=sql.SQL(", ").join(
                    sql.SQL("{}::text").format(sql.Identifier(c.name)) for c, _ in checked
                ),
                t=sql.Identifier(spec.name),
                where=sql.SQL(" OR ").join(cond for _, cond in checked),
            )
            cur.execute(statement)
            for row_id, *values in cur:
                for (col, _cond), text in zip(checked, values, strict=True):
                    reason = _problem_reason(col, text, probe)
                    if reason is None:
                        continue
                    total += 1
                    if len(problems) < MAX_PROBLEMS:
                        problems.append(ValueProblem(spec.name, row_id, col.name, text, reason))
    finally:
        probe.close()
    return problems, total


def _problem_reason(col: ColumnSpec, text: str | None, probe: sqlite3.Connection) -> str | None:
    if text is None:
        return None
    if col.kind == "datetime":
        if (
            text in ("infinity", "-infinity")
            or text.endswith(" BC")
            or len(text.split("-", 1)[0]) > 4
        ):
            return "an instant outside the years 1 to 9999 (the file's form cannot hold it)"
        return None
    if col.kind == "float":
        return _float_reason(text) if text in ("NaN", "-0") else None
    if col.kind == "json" and not _json_number_kept(text, probe):
        return "a JSON number that a SQLite JSON column would store rounded (NUMERIC affinity)"
    return None


# -- rows and digests -----------------------------------------------------------------------


def _select_expression(col: ColumnSpec) -> sql.Composable:
    c = sql.Identifier(col.name)
    if col.kind == "datetime":
        return sql.SQL("to_char({}, {})").format(c, sql.Literal(INSTANT_FORMAT))
    if col.kind in ("json", "enum"):
        return sql.SQL("{}::text").format(c)
    return c


def stream_rows(
    cur: PgCursor, spec: TableSpec, batch_rows: int
) -> Generator[list[tuple[Any, ...]], None, None]:
    """The table's rows in primary-key byte order, as batches of values ready for SQLite."""
    statement = sql.SQL(
        'COPY (SELECT {cols} FROM {t} ORDER BY {pk} COLLATE "C") TO STDOUT (FORMAT BINARY)'
    ).format(
        cols=sql.SQL(", ").join(_select_expression(c) for c in spec.columns),
        t=sql.Identifier(spec.name),
        pk=sql.Identifier(spec.pk),
    )
    with cur.copy(statement) as copy:
        copy.set_types([_COPY_TYPES[c.kind] for c in spec.columns])
        batch: list[tuple[Any, ...]] = []
        for row in copy.rows():
            batch.append(row)
            if len(batch) >= batch_rows:
                yield batch
                batch = []
        if batch:
            yield batch
