"""A PostgreSQL table as both directions compare it: its checksum and its rendered rows,
computed by the server (:mod:`rms.transfer.digest` says how a row is rendered).

The migration compares the rows it loaded, the export the rows of its snapshot: the same
queries over whichever table, cursor and transaction the caller gives.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from rms.db.pg import PgCursor, sql
from rms.transfer.digest import (
    TableDigest,
    canonical_json,
    finish_json_rendering,
    sql_column_renders,
    sql_row_digest,
)
from rms.transfer.spec import TableSpec

__all__ = ["rendered_rows", "table_digest"]


def table_digest(
    cur: PgCursor,
    spec: TableSpec,
    where: sql.Composable | None = None,
    params: Sequence[Any] | None = None,
) -> TableDigest:
    """Row count and content checksum of a table (of its rows matching ``where``, a
    ``" WHERE ..."`` clause with its ``params``), computed by the server.

    A table with a JSON column is rendered by the server column by column and finished in
    Python (jsonb's own text form is canonicalised); the others are digested entirely in SQL.
    """
    table = sql.Identifier(spec.name)
    condition = where if where is not None else sql.SQL("")
    expression = sql_row_digest(spec)
    if expression is not None:
        cur.execute(
            sql.SQL("SELECT count(*), coalesce(sum({}), 0)::text FROM {}{}").format(
                expression, table, condition
            ),
            params,
        )
        count, total = cur.fetchone() or (0, "0")
        return TableDigest(int(count), int(total))
    digest = TableDigest()
    cur.execute(
        sql.SQL("SELECT {} FROM {}{}").format(
            sql.SQL(", ").join(sql_column_renders(spec)), table, condition
        ),
        params,
    )
    for rendered in cur:
        digest.add(finish_json_rendering(spec, rendered))
    return digest


def rendered_rows(cur: PgCursor, spec: TableSpec) -> Iterator[tuple[Any, list[str]]]:
    """(primary key, canonical text of each column) in key byte order (``COLLATE "C"``, as
    SQLite's BINARY collation orders UTF-8 text): for naming the rows that differ when a
    checksum does not match."""
    cur.execute(
        sql.SQL('SELECT {pk}, {cols} FROM {t} ORDER BY {pk} COLLATE "C"').format(
            pk=sql.Identifier(spec.pk),
            cols=sql.SQL(", ").join(sql_column_renders(spec)),
            t=sql.Identifier(spec.name),
        )
    )
    for row in cur:
        rendered = [
            canonical_json(text) if col.kind == "json" and text != "N" else text
            for col, text in zip(spec.columns, row[1:], strict=True)
        ]
        yield row[0], rendered
