"""What a database's catalog says about its schema, in a form two databases can be compared by.

Read from the catalogs themselves (``pg_catalog``; SQLite's pragmas), not from SQLAlchemy's
reflection, so a difference the models cannot express still shows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

Catalog = dict[str, Any]


def pg_catalog(conn: Connection) -> Catalog:
    """Tables (columns with type, NOT NULL, default; constraints; indexes) and enum types."""
    tables: dict[str, dict[str, dict[str, Any]]] = {}

    def table(name: str) -> dict[str, dict[str, Any]]:
        return tables.setdefault(name, {"columns": {}, "constraints": {}, "indexes": {}})

    for rel, col, ctype, notnull, default in conn.exec_driver_sql(
        """
        SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
               pg_get_expr(d.adbin, d.adrelid)
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE n.nspname = 'public' AND c.relkind = 'r' AND a.attnum > 0
          AND NOT a.attisdropped
        """
    ):
        table(rel)["columns"][col] = (ctype, notnull, default)
    for rel, name, definition in conn.exec_driver_sql(
        """
        SELECT c.relname, con.conname, pg_get_constraintdef(con.oid)
        FROM pg_constraint con
        JOIN pg_class c ON c.oid = con.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public'
        """
    ):
        table(rel)["constraints"][name] = definition
    for rel, name, definition in conn.exec_driver_sql(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
    ):
        table(rel)["indexes"][name] = definition
    enums: dict[str, list[str]] = {}
    for typname, label in conn.exec_driver_sql(
        """
        SELECT t.typname, e.enumlabel FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
        ORDER BY t.typname, e.enumsortorder
        """
    ):
        enums.setdefault(typname, []).append(label)
    return {"tables": tables, "enums": enums}


def sqlite_catalog(conn: Connection) -> Catalog:
    """Per table: columns (declared type, NOT NULL, default, pk), indexes, foreign keys."""
    tables: dict[str, Any] = {}
    names = [
        row[0]
        for row in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    for name in names:
        columns = {
            row[1]: (row[2].upper(), bool(row[3]), row[4], row[5])
            for row in conn.exec_driver_sql(f'PRAGMA table_info("{name}")')
        }
        indexes = {}
        for row in conn.exec_driver_sql(f'PRAGMA index_list("{name}")'):
            if row[3] != "c":  # created by a PRIMARY KEY or UNIQUE clause, not CREATE INDEX
                continue
            cols = tuple(r[2] for r in conn.exec_driver_sql(f'PRAGMA index_info("{row[1]}")'))
            indexes[row[1]] = (bool(row[2]), cols)
        uniques = sorted(
            tuple(r[2] for r in conn.exec_driver_sql(f'PRAGMA index_info("{row[1]}")'))
            for row in conn.exec_driver_sql(f'PRAGMA index_list("{name}")')
            if row[3] == "u"
        )
        fks = sorted(
            (row[2], row[3], row[4], row[5], row[6])
            for row in conn.exec_driver_sql(f'PRAGMA foreign_key_list("{name}")')
        )
        tables[name] = {"columns": columns, "indexes": indexes, "uniques": uniques, "fks": fks}
    return tables
