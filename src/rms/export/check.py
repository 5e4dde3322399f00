"""The SQLite side of the verification: the file read back by Python, on its own terms.

Nothing here shares code with the writer. The file is opened again, read-only, and every
stored value is checked against the storage form the schema promises before it is digested:

==========  ============================  ==================================================
kind        must be stored as             digested as
==========  ============================  ==================================================
text, enum  TEXT (an enum: one of its     the text
            labels)
int         INTEGER                       the integer
float       REAL                          its 8 bytes (bit for bit)
bool        INTEGER 0 or 1                true / false
datetime    TEXT ``YYYY-MM-DDTHH:MM:SS.   epoch milliseconds, parsed from the text here
            mmm+00:00`` exactly
json        TEXT, or the INTEGER/REAL a   the canonical JSON of the document
            bare number becomes in a
            NUMERIC-affinity column
NULL        NULL (only where allowed)     ``N``
==========  ============================  ==================================================

The digests use the renderers of :mod:`rms.transfer.digest`, the same canonical rows the
PostgreSQL side computes in SQL, so equal checksums mean equal content. ``PRAGMA
foreign_key_check`` and ``PRAGMA integrity_check`` run here too. The file is opened with
:func:`rms.transfer.sqlite.open_readonly` and a page cache of :data:`CACHE_KIB`.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rms.transfer.digest import TableDigest, canonical_json, python_renderers, render_row
from rms.transfer.spec import ColumnSpec, TableSpec
from rms.transfer.sqlite import open_readonly

__all__ = [
    "CACHE_KIB",
    "StoredValueError",
    "foreign_key_problems",
    "integrity_problems",
    "json_as_stored",
    "sqlite_digest",
    "sqlite_rendered_rows",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
#: Exactly the file's instant form, ``2026-04-23T13:10:07.100+00:00`` (ASCII digits only).
_INSTANT_TEXT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", re.ASCII).fullmatch


class StoredValueError(Exception):
    """A value in the file is not in the form its column must have."""

    def __init__(self, row_id: Any, column: str, value: Any, reason: str) -> None:
        super().__init__(f"row id {row_id!r}: {column} = {value!r}: {reason}")
        self.row_id = row_id
        self.column = column
        self.value = value
        self.reason = reason


#: Page cache of each reading connection (KiB, negative as SQLite wants it): 128 MB. The
#: integrity check jumps between every index and its table; with SQLite's default 2 MB it
#: rereads pages over and over (measured: a third slower on a 130 MB file).
CACHE_KIB = 131072


def _instant_ms(value: Any) -> int:
    if not isinstance(value, str) or _INSTANT_TEXT(value) is None:
        raise ValueError("not YYYY-MM-DDTHH:MM:SS.mmm+00:00 text")
    return (datetime.fromisoformat(value) - _EPOCH) // _MS


def json_as_stored(value: Any) -> str:
    """The canonical JSON of a document as a SQLite ``JSON`` column returns it."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not how SQLite returns JSON")
    if isinstance(value, int):
        return canonical_json(str(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("a number JSON cannot write")
        return canonical_json(repr(value))
    if isinstance(value, str):
        return canonical_json(value)
    raise ValueError(f"{type(value).__name__} is not JSON text")


def _reader(col: ColumnSpec) -> Callable[[Any], Any]:
    """Turns one stored value into the value the digest renders, or raises ValueError."""
    kind = col.kind
    if kind == "text":

        def text(v: Any) -> Any:
            if isinstance(v, str):
                return v
            raise ValueError("not TEXT")

        return text
    if kind == "enum":
        choices = frozenset(col.choices)

        def enum(v: Any) -> Any:
            if isinstance(v, str) and v in choices:
                return v
            raise ValueError(f"not one of {sorted(choices)}")

        return enum
    if kind == "int":

        def integer(v: Any) -> Any:
            if type(v) is int:
                return v
            raise ValueError("not INTEGER")

        return integer
    if kind == "float":

        def real(v: Any) -> Any:
            if type(v) is float:
                return v
            raise ValueError("not REAL")

        return real
    if kind == "bool":

        def boolean(v: Any) -> Any:
            if type(v) is int and v in (0, 1):
                return v == 1
            raise ValueError("not 0 or 1")

        return boolean
    if kind == "datetime":
        return _instant_ms
    return json_as_stored


def _readers(spec: TableSpec) -> list[Callable[[Any], Any]]:
    readers: list[Callable[[Any], Any]] = []
    for col in spec.columns:
        read = _reader(col)
        readers.append(_nullable(read) if col.nullable else read)
    return readers


def _nullable(read: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else read(v)


def _rows(
    conn: sqlite3.Connection, spec: TableSpec, *, ordered: bool
) -> Iterator[tuple[Any, list[Any]]]:
    """(primary key, checked values) of every row; raises StoredValueError on a bad value."""
    columns = ", ".join(f'"{c.name}"' for c in spec.columns)
    order = f' ORDER BY "{spec.pk}"' if ordered else ""
    readers = _readers(spec)
    names = spec.column_names
    pk = names.index(spec.pk)
    cursor = conn.execute(f'SELECT {columns} FROM "{spec.name}"{order}')  # noqa: S608
    while batch := cursor.fetchmany(5000):
        for row in batch:
            try:
                values = [read(v) for read, v in zip(readers, row, strict=True)]
            except ValueError:
                yield row[pk], _explain(readers, names, row, row[pk])
                continue
            yield row[pk], values


def _explain(
    readers: list[Callable[[Any], Any]], names: list[str], row: tuple[Any, ...], row_id: Any
) -> list[Any]:
    """Name the first value of a row that failed its reader (the slow path, once)."""
    for read, name, value in zip(readers, names, row, strict=True):
        try:
            read(value)
        except ValueError as exc:
            raise StoredValueError(row_id, name, value, str(exc) or "not allowed here") from None
    raise AssertionError("unreachable: a reader failed and then did not")  # pragma: no cover


def sqlite_digest(conn: sqlite3.Connection, spec: TableSpec) -> TableDigest:
    """Row count and content checksum of a table of the file, computed here in Python."""
    renderers = python_renderers(spec)
    digest = TableDigest()
    for _pk, values in _rows(conn, spec, ordered=False):
        digest.add(render_row(renderers, values))
    return digest


def sqlite_rendered_rows(
    conn: sqlite3.Connection, spec: TableSpec
) -> Iterator[tuple[str, list[str]]]:
    """(primary key, canonical text of each column) in key byte order (SQLite's BINARY
    collation orders UTF-8 text as PostgreSQL's "C" does)."""
    renderers = python_renderers(spec)
    for pk, values in _rows(conn, spec, ordered=True):
        yield str(pk), [r(v) for r, v in zip(renderers, values, strict=True)]


def foreign_key_problems(conn: sqlite3.Connection) -> list[str]:
    """``PRAGMA foreign_key_check``: every row whose reference does not resolve."""
    return [
        f"{table} rowid {rowid} references a missing {parent} row"
        for table, rowid, parent, _fk in conn.execute("PRAGMA foreign_key_check").fetchall()
    ]


def integrity_problems(path: Path) -> list[str]:
    """``PRAGMA integrity_check`` of the file (every page, index entry and constraint)."""
    conn = open_readonly(path, cache_kib=CACHE_KIB)
    try:
        found = [str(r[0]) for r in conn.execute("PRAGMA integrity_check").fetchall()]
    finally:
        conn.close()
    return [] if found == ["ok"] else found
