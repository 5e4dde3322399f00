"""Which source columns a unique index proves free of duplicates (issue 31, step 5)."""

from __future__ import annotations

import sqlite3

from rms.migrate.scan import _unique_binary_columns
from rms.migrate.sqlite import SourceTable


def _columns(ddl: str, relation: str | None = None) -> set[str]:
    conn = sqlite3.connect(":memory:")
    conn.executescript(ddl)
    return _unique_binary_columns(conn, SourceTable("t", [], 0, relation=relation))


def test_a_primary_key_and_a_unique_column_are_trusted() -> None:
    assert _columns('CREATE TABLE t ("id" TEXT PRIMARY KEY, name TEXT UNIQUE, x TEXT)') == {
        '"id"',
        '"name"',
    }


def test_partial_composite_nocase_and_expression_indexes_are_not() -> None:
    ddl = """
        CREATE TABLE t (id TEXT, a TEXT, b TEXT, c TEXT COLLATE NOCASE, d TEXT);
        CREATE UNIQUE INDEX t_id ON t (id) WHERE id IS NOT NULL;
        CREATE UNIQUE INDEX t_ab ON t (a, b);
        CREATE UNIQUE INDEX t_c ON t (c);
        CREATE UNIQUE INDEX t_d ON t (lower(d));
        CREATE INDEX t_plain ON t (b);
    """
    assert _columns(ddl) == set()


def test_rows_from_a_derived_relation_are_not() -> None:
    assert _columns('CREATE TABLE t ("id" TEXT PRIMARY KEY)', relation="temp.derived") == set()
