"""The run's rows written where the source is read: TEMP tables of the reading connection.

:func:`materialize` writes what :func:`rms.migrate.lineage.build_lineage` decided (the
filled values, the risk-group map, the created risk groups, the stand-ins, the archived
values) into TEMP tables of a connection that reads the source, so the loader, ``verify``
and the difference finder read them with the same SELECTs as any source row. The rows
themselves are computed in :mod:`rms.migrate.lineage`; here they are only read and written.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from rms.migrate.lineage import (
    ARCHIVE_TABLE,
    RISK_GROUP_TABLE,
    T_ARCHIVE,
    T_RISK_GROUP,
    T_RISK_MAP,
    T_VALUES,
    ArchiveItem,
    Lineage,
    RunIdentity,
    StandIn,
    archive_rows,
    stand_in_relation,
    stand_in_row,
)
from rms.migrate.scan import map_table
from rms.migrate.sqlite import SourceSchema, SourceTable
from rms.transfer.spec import TableSpec, table_specs
from rms.transfer.sqlite import quote_ident

__all__ = ["materialize"]


def _archived_source_rows(
    conn: sqlite3.Connection, schema: SourceSchema, lineage: Lineage
) -> Iterator[tuple[ArchiveItem, SourceTable, Sequence[Any]]]:
    """The source rows the run archives (every column), with their item and table."""
    for item in lineage.archive:
        table = schema.find(item.table)
        assert table is not None
        names = ", ".join(quote_ident(c.name) for c in table.columns)
        query = f"SELECT {names} FROM {table.sql_name}"  # noqa: S608
        if item.only_values:
            col = quote_ident(item.column or "")
            query += f" WHERE {col} IN ({', '.join('?' for _ in item.only_values)})"
        query += " ORDER BY rowid" if table.has_rowid else ""
        for raw in conn.execute(query, item.only_values):
            yield item, table, raw


def materialize(
    conn: sqlite3.Connection, schema: SourceSchema, lineage: Lineage, run: RunIdentity
) -> None:
    """Create the run's TEMP tables on ``conn`` (the connection that reads the source).

    TEMP tables live in the connection's own temporary database, so a read-only connection
    can hold them and the source file is never written. Called once per reading
    connection, before any row is read.
    """
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {T_VALUES.split('.')[1]} (v)")
    conn.execute(f"DELETE FROM {T_VALUES}")  # noqa: S608
    conn.executemany(
        f"INSERT INTO {T_VALUES} (rowid, v) VALUES (?, ?)",  # noqa: S608
        list(enumerate(lineage.fill_values, start=1)),
    )
    conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS {T_RISK_MAP.split('.')[1]} (old, id)")
    conn.execute(f"DELETE FROM {T_RISK_MAP}")  # noqa: S608
    conn.executemany(
        f"INSERT INTO {T_RISK_MAP} (old, id) VALUES (?, ?)",  # noqa: S608
        [(g.old_value, g.group_id) for g in lineage.risk_groups],
    )
    specs = {s.name: s for s in table_specs()}
    group_stand_ins = [s for s in lineage.stand_ins if s.table == RISK_GROUP_TABLE]
    if group_stand_ins or any(g.created for g in lineage.risk_groups):
        _derived_table(conn, schema, specs[RISK_GROUP_TABLE], T_RISK_GROUP, run)
        seen: set[str] = set()
        for g in lineage.risk_groups:
            if g.created and g.group_id not in seen:
                seen.add(g.group_id)
                conn.execute(
                    f'INSERT INTO {T_RISK_GROUP} (id, name, "createdAt", "updatedAt", '  # noqa: S608
                    '"deletedAt", version) VALUES (?, ?, ?, ?, NULL, 1)',
                    (g.group_id, g.name, run.run_start_ms, run.run_start_ms),
                )
        _insert_stand_ins(
            conn, specs[RISK_GROUP_TABLE], T_RISK_GROUP, group_stand_ins, lineage, run
        )
    for table in dict.fromkeys(s.table for s in lineage.stand_ins):
        if table == RISK_GROUP_TABLE:
            continue
        spec, relation = specs[table], stand_in_relation(table)
        conn.execute(f"DROP TABLE IF EXISTS {relation}")
        columns = ", ".join(quote_ident(c) for c in spec.column_names)
        conn.execute(f"CREATE TEMP TABLE {relation.split('.')[1]} ({columns})")
        own = lineage.stand_in_sources.get(table)
        if own is not None:
            sql_name, select = own
            conn.execute(
                f"INSERT INTO {relation} (rowid, {columns}) "  # noqa: S608
                f"SELECT rowid, {', '.join(select)} FROM {sql_name} ORDER BY rowid"
            )
        made = [s for s in lineage.stand_ins if s.table == table]
        _insert_stand_ins(conn, spec, relation, made, lineage, run)
    if lineage.archive:
        _derived_table(conn, schema, specs[ARCHIVE_TABLE], T_ARCHIVE, run)
        conn.executemany(
            f"INSERT INTO {T_ARCHIVE} (id, origin, table_name, row_id, column_name, value, "  # noqa: S608
            "archived_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            archive_rows(_archived_source_rows(conn, schema, lineage), run),
        )


def _insert_stand_ins(
    conn: sqlite3.Connection,
    spec: TableSpec,
    relation: str,
    stand_ins: Sequence[StandIn],
    lineage: Lineage,
    run: RunIdentity,
) -> None:
    """Append the stand-in rows of ``spec`` to ``relation``."""
    columns = ", ".join(quote_ident(c) for c in spec.column_names)
    marks = ", ".join("?" for _ in spec.column_names)
    symbols_group = lineage.stand_in_symbols_group
    for stand_in in stand_ins:
        values = stand_in_row(spec, stand_in, symbols_group, run)
        conn.execute(f"INSERT INTO {relation} ({columns}) VALUES ({marks})", values)  # noqa: S608


def _derived_table(
    conn: sqlite3.Connection,
    schema: SourceSchema,
    spec: TableSpec,
    relation: str,
    run: RunIdentity,
) -> None:
    """A TEMP table with the target's columns holding the source's own rows of ``spec``."""
    conn.execute(f"DROP TABLE IF EXISTS {relation}")
    columns = ", ".join(quote_ident(c) for c in spec.column_names)
    conn.execute(f"CREATE TEMP TABLE {relation.split('.')[1]} ({columns})")
    found = schema.find(spec.name)
    if found is None:
        return
    inner = map_table(spec, found, run.run_start_ms)
    select = ", ".join(inner.select)
    conn.execute(
        f"INSERT INTO {relation} (rowid, {columns}) "  # noqa: S608
        f"SELECT rowid, {select} FROM {found.sql_name} ORDER BY rowid"
    )
