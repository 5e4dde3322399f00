"""the application's latest schema: CUSIP tables, volatility, Prisma names, types and rules

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 10:00:00

Brings a database at 0001 to the application's latest Prisma schema (its migration 22), so
the application's own Prisma client runs on it, keeping every value:

* ``universe``: ``volatility_calculated_at``, ``volatility_long``, ``volatility_short``.
* ``cusip_cache`` (with the ``"CusipCacheSource"`` enum type on PostgreSQL; TEXT with a
  CHECK on SQLite), ``cusip_cache_archive``, ``cusip_cache_audit``, as Prisma creates them.
* Instants: ``timestamptz`` becomes ``timestamp(3) without time zone`` holding UTC, Prisma's
  mapping (``USING c AT TIME ZONE 'UTC'``, truncated to the millisecond, which is all the
  service ever wrote). On SQLite every stored instant is rewritten from our old
  ``YYYY-MM-DD HH:MM:SS.ffffff`` to Prisma 7's ``YYYY-MM-DDTHH:MM:SS.mmm+00:00``, the form
  both sides now write, so text comparisons order values from either side correctly (see
  :mod:`rms.schema.types`); a value in any other form the application leaves is parsed and
  rewritten too, and one that is no instant at all stops the upgrade, naming it.
* Names as Prisma gives them (``<table>_pkey``, unique *indexes* ``<table>_<cols>_key``,
  ``<table>_<col>_fkey``, ``<table>_<cols>_idx``), every index of the application's schema
  and no other (our three extra foreign-key indexes go).
* Relations: ``divDeposits.universeId`` (optional) becomes ON DELETE SET NULL; the required
  ones stay RESTRICT; all ON UPDATE CASCADE. ``createdAt`` gets DEFAULT CURRENT_TIMESTAMP.
* The screener checkboxes (dropped by the application's migration 21) leave the table, but
  their values are first copied to the new ``rms_archive`` table (origin ``alembic:0002``);
  the downgrade puts them back.

On SQLite, tables are rebuilt (new table, copy, drop, rename: SQLite cannot rename or drop
constraints in place). That needs ``PRAGMA foreign_keys`` off, which cannot change inside a
transaction, so :func:`rms.schema.migrations.upgrade` turns it off around the run; the
revision checks it, and checks ``PRAGMA foreign_key_check`` before it ends.

The downgrade refuses to drop data that 0001 has no place for (rows in the CUSIP tables,
volatility values, ``rms_archive`` rows of other origins) unless the caller passes
``discard=True`` to :func:`rms.schema.migrations.downgrade`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from rms.errors import SchemaMigrationError
from rms.schema.types import parse_stored_instant

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORIGIN = "alembic:0002"
CHECKBOXES = ("has_volitility", "objectives_understood", "graph_higher_before_2008")
VOLATILITY = ("volatility_calculated_at", "volatility_long", "volatility_short")
CUSIP_SOURCES = ("THIRTEENF", "YAHOO_FINANCE")
NEW_TABLES = ("cusip_cache", "cusip_cache_archive", "cusip_cache_audit")

# --- the nine tables of 0001, as data: (column, kind, nullable, server default) ----------

Col = tuple[str, str, bool, str | None]
COMMON: list[Col] = [
    ("createdAt", "dt", False, None),
    ("updatedAt", "dt", False, None),
    ("deletedAt", "dt", True, None),
    ("version", "int", False, "1"),
]
FIELDS: dict[str, list[Col]] = {
    "accounts": [("id", "text", False, None), ("name", "text", False, None)],
    "divDepositType": [("id", "text", False, None), ("name", "text", False, None)],
    "holidays": [
        ("id", "text", False, None),
        ("date", "dt", False, None),
        ("name", "text", False, None),
    ],
    "risk_group": [("id", "text", False, None), ("name", "text", False, None)],
    "settings": [("key", "text", False, None), ("value", "json", False, None)],
    "screener": [
        ("id", "text", False, None),
        ("symbol", "text", False, None),
        ("distribution", "float", False, None),
        ("distributions_per_year", "int", False, None),
        ("last_price", "float", False, None),
        ("ex_date", "dt", True, None),
        ("risk_group_id", "text", False, None),
        *((name, "bool", False, "false") for name in CHECKBOXES),
    ],
    "universe": [
        ("id", "text", False, None),
        ("distribution", "float", False, None),
        ("distributions_per_year", "int", False, None),
        ("last_price", "float", False, None),
        ("most_recent_sell_date", "dt", True, None),
        ("most_recent_sell_price", "float", True, None),
        ("symbol", "text", False, None),
        ("ex_date", "dt", True, None),
        ("risk_group_id", "text", False, None),
        ("expired", "bool", False, "false"),
        ("is_closed_end_fund", "bool", False, "true"),
    ],
    "divDeposits": [
        ("id", "text", False, None),
        ("date", "dt", False, None),
        ("amount", "float", False, None),
        ("accountId", "text", False, None),
        ("divDepositTypeId", "text", False, None),
        ("universeId", "text", True, None),
    ],
    "trades": [
        ("id", "text", False, None),
        ("universeId", "text", False, None),
        ("accountId", "text", False, None),
        ("buy", "float", False, None),
        ("sell", "float", False, None),
        ("buy_date", "dt", False, None),
        ("quantity", "int", False, None),
        ("sell_date", "dt", True, None),
    ],
}
TABLES = tuple(FIELDS)
PRIMARY_KEY = {name: ("key" if name == "settings" else "id") for name in TABLES}

#: (table, column, parent, optional): every relation, in both revisions.
FKS = [
    ("universe", "risk_group_id", "risk_group", False),
    ("screener", "risk_group_id", "risk_group", False),
    ("trades", "universeId", "universe", False),
    ("trades", "accountId", "accounts", False),
    ("divDeposits", "accountId", "accounts", False),
    ("divDeposits", "divDepositTypeId", "divDepositType", False),
    ("divDeposits", "universeId", "universe", True),
]
#: Unique columns (a UNIQUE constraint in 0001, Prisma's unique index in 0002).
UNIQUES = {
    "accounts": "name",
    "risk_group": "name",
    "universe": "symbol",
    "holidays": "date",
    "screener": "symbol",
}
#: Plain indexes, by their columns.
INDEXES_0001: dict[str, list[tuple[str, ...]]] = {
    "universe": [("expired",), ("risk_group_id",)],
    "screener": [("risk_group_id",)],
    "divDeposits": [("accountId",), ("date",), ("divDepositTypeId",), ("universeId",)],
    "trades": [("accountId",), ("accountId", "sell_date"), ("sell_date",), ("universeId",)],
}
INDEXES_0002: dict[str, list[tuple[str, ...]]] = {
    "accounts": [("name",), ("createdAt",), ("deletedAt",)],
    "universe": [("expired",), ("risk_group_id",)],
    "screener": [("risk_group_id",)],
    "divDeposits": [("accountId",), ("date",), ("accountId", "date")],
    "trades": [
        ("accountId",),
        ("buy_date",),
        ("sell_date",),
        ("accountId", "buy_date"),
        ("accountId", "sell_date"),
    ],
}


def _pk_name(table: str, rev: int) -> str:
    return f"pk_{table}" if rev == 1 else f"{table}_pkey"


def _fk_name(table: str, column: str, rev: int) -> str:
    return f"fk_{table}_{column}" if rev == 1 else f"{table}_{column}_fkey"


def _unique_name(table: str, column: str, rev: int) -> str:
    return f"uq_{table}_{column}" if rev == 1 else f"{table}_{column}_key"


def _index_name(table: str, columns: tuple[str, ...], rev: int) -> str:
    joined = "_".join(columns)
    return f"ix_{table}_{joined}" if rev == 1 else f"{table}_{joined}_idx"


def _columns(table: str, rev: int) -> list[Col]:
    fields = FIELDS[table]
    if rev == 2:
        fields = [f for f in fields if f[0] not in CHECKBOXES]
    cols = fields + COMMON
    if rev == 2 and table == "universe":
        cols = [
            *cols,
            ("volatility_calculated_at", "dt", True, None),
            ("volatility_long", "text", True, None),
            ("volatility_short", "text", True, None),
        ]
    return cols


def _dt_columns(table: str, rev: int) -> list[str]:
    return [name for name, kind, _n, _d in _columns(table, rev) if kind == "dt"]


def _instant(rev: int = 2) -> Any:
    if rev == 1:
        return sa.DateTime(timezone=True)
    return sa.DateTime().with_variant(postgresql.TIMESTAMP(precision=3), "postgresql")


def _real() -> Any:
    return sa.Double().with_variant(sa.REAL(), "sqlite")


def _type(kind: str, rev: int) -> Any:
    types: dict[str, Callable[[], Any]] = {
        "text": sa.Text,
        "int": sa.Integer,
        # 0001 declared DOUBLE on SQLite; 0002 declares REAL, as Prisma (same affinity).
        "float": sa.Double if rev == 1 else _real,
        "bool": sa.Boolean,
        "json": lambda: sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
        "dt": lambda: _instant(rev),
    }
    return types[kind]()


def _server_default(table: str, column: str, default: str | None, rev: int) -> Any:
    if rev == 2 and column == "createdAt":
        return sa.text("CURRENT_TIMESTAMP")
    if default is None:
        return None
    # 0001 was rendered with parenthesised boolean defaults; kept as it was on the way back.
    return sa.text(f"({default})" if rev == 1 and default in ("true", "false") else default)


def _table(md: sa.MetaData, table: str, rev: int, as_name: str | None = None) -> sa.Table:
    """The SQLite shape of one of the nine tables at revision ``rev`` (indexes apart)."""
    items: list[Any] = [
        sa.Column(
            name,
            _type(kind, rev),
            nullable=nullable,
            server_default=_server_default(table, name, default, rev),
        )
        for name, kind, nullable, default in _columns(table, rev)
    ]
    items.append(sa.PrimaryKeyConstraint(PRIMARY_KEY[table], name=_pk_name(table, rev)))
    if rev == 1 and table in UNIQUES:
        column = UNIQUES[table]
        items.append(sa.UniqueConstraint(column, name=_unique_name(table, column, rev)))
    for child, column, parent, optional in FKS:
        if child == table:
            items.append(
                sa.ForeignKeyConstraint(
                    [column],
                    [f"{parent}.id"],
                    name=_fk_name(table, column, rev),
                    ondelete="SET NULL" if optional and rev == 2 else "RESTRICT",
                    onupdate="CASCADE",
                )
            )
    return sa.Table(as_name or table, md, *items)


def _create_indexes(table: str, rev: int) -> None:
    if rev == 2 and table in UNIQUES:
        column = UNIQUES[table]
        op.create_index(_unique_name(table, column, rev), table, [column], unique=True)
    for columns in (INDEXES_0001 if rev == 1 else INDEXES_0002).get(table, []):
        op.create_index(_index_name(table, columns, rev), table, list(columns))


# --- instants on SQLite ----------------------------------------------------------------

#: GLOBs of the two storage forms: 0001 (SQLAlchemy's default) and 0002 (Prisma 7's).
_D = "[0-9][0-9]"
GLOB_0001 = f"{_D}{_D}-{_D}-{_D} {_D}:{_D}:{_D}.{_D}{_D}{_D}"
GLOB_0002 = f"{_D}{_D}-{_D}-{_D}T{_D}:{_D}:{_D}.[0-9][0-9][0-9]+00:00"


def _form(value: datetime, rev: int) -> str:
    """An instant in the SQLite storage form of revision ``rev`` (fixed width)."""
    v = value.astimezone(UTC)
    day = f"{v.year:04d}-{v.month:02d}-{v.day:02d}"
    clock = f"{v.hour:02d}:{v.minute:02d}:{v.second:02d}"
    if rev == 1:
        return f"{day} {clock}.{v.microsecond:06d}"
    return f"{day}T{clock}.{v.microsecond // 1000:03d}+00:00"


def _sql_convert(column: str, rev: int) -> str:
    """SQL rewriting the other revision's form to ``rev``'s (other values pass through)."""
    c = f'"{column}"'
    if rev == 2:
        return (
            f"CASE WHEN typeof({c}) = 'text' AND {c} GLOB '{GLOB_0001}' "
            f"THEN substr({c}, 1, 10) || 'T' || substr({c}, 12, 12) || '+00:00' ELSE {c} END"
        )
    return (
        f"CASE WHEN typeof({c}) = 'text' AND {c} GLOB '{GLOB_0002}' "
        f"THEN substr({c}, 1, 10) || ' ' || substr({c}, 12, 12) || '000' ELSE {c} END"
    )


def _normalise_rest(bind: sa.Connection, table: str, rev: int) -> None:
    """Rewrite, in Python, instants the SQL pass left in another form (rare: values some
    other writer left); a value that is no instant stops the revision, naming it."""
    pk = PRIMARY_KEY[table]
    glob = GLOB_0002 if rev == 2 else GLOB_0001
    for column in _dt_columns(table, rev):
        rows = bind.execute(
            sa.text(
                f'SELECT "{pk}", "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL '  # noqa: S608
                f'AND (typeof("{column}") != \'text\' OR "{column}" NOT GLOB :glob)'
            ),
            {"glob": glob},
        ).all()
        for row_id, raw in rows:
            try:
                instant = parse_stored_instant(raw)
            except Exception as exc:
                raise SchemaMigrationError(
                    f"{table}.{column} of row {row_id!r} holds {raw!r}, which is not an "
                    f"instant: the schema upgrade stopped and changed nothing ({exc})",
                    table=table,
                    row_id=row_id,
                    column=column,
                    value=raw,
                ) from exc
            bind.execute(
                sa.text(f'UPDATE "{table}" SET "{column}" = :v WHERE "{pk}" = :id'),  # noqa: S608
                {"v": _form(instant, rev), "id": row_id},
            )


def _sqlite_rebuild(bind: sa.Connection, rev: int) -> None:
    """Rebuild the nine tables into revision ``rev``'s shape, copying every row."""
    (fk_on,) = bind.exec_driver_sql("PRAGMA foreign_keys").one()
    if fk_on:
        raise SchemaMigrationError(
            "SQLite foreign keys are on: this revision rebuilds tables and must run with them "
            "off; run it through `rms db upgrade` (rms.schema.migrations), which does that"
        )
    md = sa.MetaData()
    for table in TABLES:
        _table(md, table, rev)
    for table in TABLES:
        tmp = f"_rms_{revision}_{table}"
        new = _table(md, table, rev, as_name=tmp)
        new.create(bind)
        old_names = {c[0] for c in _columns(table, 2 if rev == 1 else 1)}
        kept = [c[0] for c in _columns(table, rev) if c[0] in old_names]
        dts = set(_dt_columns(table, rev))
        select = ", ".join(_sql_convert(c, rev) if c in dts else f'"{c}"' for c in kept)
        names = ", ".join(f'"{c}"' for c in kept)
        bind.exec_driver_sql(f'INSERT INTO "{tmp}" ({names}) SELECT {select} FROM "{table}"')  # noqa: S608
        bind.exec_driver_sql(f'DROP TABLE "{table}"')
        bind.exec_driver_sql(f'ALTER TABLE "{tmp}" RENAME TO "{table}"')
        _create_indexes(table, rev)
        _normalise_rest(bind, table, rev)
    problems = bind.exec_driver_sql("PRAGMA foreign_key_check").all()
    if problems:
        raise SchemaMigrationError(
            f"{len(problems)} rows reference rows that do not exist (first: {problems[0]!r}); "
            "the schema upgrade stopped and changed nothing"
        )


# --- PostgreSQL: altered in place ------------------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pg_alter(rev: int) -> None:
    """Move the nine tables' types, names, indexes and relations to revision ``rev``."""
    old = 2 if rev == 1 else 1
    for child, column, _parent, _optional in FKS:
        op.drop_constraint(_fk_name(child, column, old), child, type_="foreignkey")
    for table in TABLES:
        if rev == 2:
            using = "date_trunc('milliseconds', {c} AT TIME ZONE 'UTC')"
            target = "timestamp(3) without time zone"
        else:
            using, target = "{c} AT TIME ZONE 'UTC'", "timestamp with time zone"
        clauses = [
            f"ALTER COLUMN {_q(c)} TYPE {target} USING {using.format(c=_q(c))}"
            for c in _dt_columns(table, 1)
        ]
        clauses.append(
            'ALTER COLUMN "createdAt" '
            + ("SET DEFAULT CURRENT_TIMESTAMP" if rev == 2 else "DROP DEFAULT")
        )
        op.execute(f"ALTER TABLE {_q(table)} " + ", ".join(clauses))
        op.execute(
            f"ALTER TABLE {_q(table)} RENAME CONSTRAINT {_q(_pk_name(table, old))} "
            f"TO {_q(_pk_name(table, rev))}"
        )
        if table in UNIQUES:
            column = UNIQUES[table]
            if rev == 2:
                op.drop_constraint(_unique_name(table, column, 1), table, type_="unique")
                op.create_index(_unique_name(table, column, 2), table, [column], unique=True)
            else:
                op.drop_index(_unique_name(table, column, 2), table_name=table)
                op.create_unique_constraint(_unique_name(table, column, 1), table, [column])
        old_ix = {cols: _index_name(table, cols, old) for cols in _indexes(table, old)}
        new_ix = {cols: _index_name(table, cols, rev) for cols in _indexes(table, rev)}
        for cols, name in old_ix.items():
            if cols in new_ix:
                op.execute(f"ALTER INDEX {_q(name)} RENAME TO {_q(new_ix[cols])}")
            else:
                op.drop_index(name, table_name=table)
        for cols, name in new_ix.items():
            if cols not in old_ix:
                op.create_index(name, table, list(cols))
    for child, column, parent, optional in FKS:
        op.create_foreign_key(
            _fk_name(child, column, rev),
            child,
            parent,
            [column],
            ["id"],
            ondelete="SET NULL" if optional and rev == 2 else "RESTRICT",
            onupdate="CASCADE",
        )


def _indexes(table: str, rev: int) -> list[tuple[str, ...]]:
    return (INDEXES_0001 if rev == 1 else INDEXES_0002).get(table, [])


# --- the archive and the new tables ------------------------------------------------------


def _archive_table(md: sa.MetaData) -> sa.Table:
    return sa.Table(
        "rms_archive",
        md,
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.Column("table_name", sa.Text(), nullable=False),
        sa.Column("row_id", sa.Text(), nullable=True),
        sa.Column("column_name", sa.Text(), nullable=True),
        sa.Column(
            "value", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column(
            "archived_at",
            _instant(),
            server_default=sa.text("CURRENT_TIMESTAMP"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name="rms_archive_pkey"),
    )


#: The archive for reading and writing rows: ``archived_at`` untyped, so the value bound is
#: the storage form itself (naive UTC on PostgreSQL, Prisma 7 text on SQLite).
ARCHIVE_ROWS = sa.table(
    "rms_archive",
    sa.column("id"),
    sa.column("origin"),
    sa.column("table_name"),
    sa.column("row_id"),
    sa.column("column_name"),
    sa.column("value", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
    sa.column("archived_at"),
)


def _create_new_tables(dialect: str) -> None:
    now = sa.text("CURRENT_TIMESTAMP")
    if dialect == "postgresql":
        values = ", ".join(f"'{v}'" for v in CUSIP_SOURCES)
        op.execute(f'CREATE TYPE "CusipCacheSource" AS ENUM ({values})')
        source: Any = postgresql.ENUM(*CUSIP_SOURCES, name="CusipCacheSource", create_type=False)
        checks: list[Any] = []
    else:
        source = sa.Text()
        quoted = ", ".join(f"'{v}'" for v in CUSIP_SOURCES)
        # op.f(): the name as given (the models' "ck" convention would wrap it again).
        checks = [
            sa.CheckConstraint(f"source IN ({quoted})", name=op.f("cusip_cache_source_check"))
        ]
    op.create_table(
        "cusip_cache",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("cusip", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("source", source, nullable=False),
        sa.Column("resolvedAt", _instant(), server_default=now, nullable=False),
        sa.Column("lastUsedAt", _instant(), server_default=now, nullable=False),
        sa.Column("createdAt", _instant(), server_default=now, nullable=False),
        sa.Column("updatedAt", _instant(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="cusip_cache_pkey"),
        *checks,
    )
    op.create_index("cusip_cache_cusip_key", "cusip_cache", ["cusip"], unique=True)
    op.create_index("cusip_cache_cusip_idx", "cusip_cache", ["cusip"])
    op.create_index("cusip_cache_resolvedAt_idx", "cusip_cache", ["resolvedAt"])
    op.create_index("cusip_cache_lastUsedAt_idx", "cusip_cache", ["lastUsedAt"])
    op.create_table(
        "cusip_cache_archive",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("cusip", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("resolvedAt", _instant(), nullable=False),
        sa.Column("archivedAt", _instant(), server_default=now, nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="cusip_cache_archive_pkey"),
    )
    op.create_index("cusip_cache_archive_archivedAt_idx", "cusip_cache_archive", ["archivedAt"])
    op.create_table(
        "cusip_cache_audit",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("cusip", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("userId", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("createdAt", _instant(), server_default=now, nullable=False),
        sa.PrimaryKeyConstraint("id", name="cusip_cache_audit_pkey"),
    )
    op.create_index("cusip_cache_audit_createdAt_idx", "cusip_cache_audit", ["createdAt"])
    op.create_index("cusip_cache_audit_cusip_idx", "cusip_cache_audit", ["cusip"])


def _archive_checkboxes(bind: sa.Connection) -> None:
    """Copy every screener checkbox value into rms_archive (one row per row and column)."""
    columns = ", ".join(f'"{c}"' for c in CHECKBOXES)
    rows = bind.exec_driver_sql(f'SELECT "id", {columns} FROM "screener"').all()  # noqa: S608
    now = datetime.now(UTC)
    now = now.replace(microsecond=now.microsecond // 1000 * 1000)
    stamp: Any = _form(now, 2) if bind.dialect.name == "sqlite" else now.replace(tzinfo=None)
    values = [
        {
            "id": str(uuid.uuid4()),
            "origin": ORIGIN,
            "table_name": "screener",
            "row_id": row[0],
            "column_name": column,
            "value": bool(row[i + 1]),
            "archived_at": stamp,
        }
        for row in rows
        for i, column in enumerate(CHECKBOXES)
    ]
    if values:
        bind.execute(ARCHIVE_ROWS.insert(), values)


def _restore_checkboxes(bind: sa.Connection) -> None:
    """Give the screener its checkbox values back from rms_archive, then forget them there."""
    archive = ARCHIVE_ROWS
    mine = sa.and_(archive.c.origin == ORIGIN, archive.c.table_name == "screener")
    rows = bind.execute(
        sa.select(archive.c.row_id, archive.c.column_name, archive.c.value).where(mine)
    ).all()
    for row_id, column, value in rows:
        if column not in CHECKBOXES:
            continue
        bind.execute(
            sa.text(f'UPDATE "screener" SET "{column}" = :v WHERE "id" = :id'),  # noqa: S608
            {"v": bool(value), "id": row_id},
        )
    bind.execute(archive.delete().where(mine))


def _refuse_data_loss(bind: sa.Connection) -> None:
    """The downgrade would drop data 0001 has no place for: say what, unless told to."""
    if context.config.attributes.get("discard", False):
        return
    lost: list[str] = []
    for table in NEW_TABLES:
        (n,) = bind.exec_driver_sql(f'SELECT count(*) FROM "{table}"').one()  # noqa: S608
        if n:
            lost.append(f"{table}: {n} rows")
    checks = " OR ".join(f'"{c}" IS NOT NULL' for c in VOLATILITY)
    (n,) = bind.exec_driver_sql(f'SELECT count(*) FROM "universe" WHERE {checks}').one()  # noqa: S608
    if n:
        lost.append(f"universe.volatility_*: values in {n} rows")
    (n,) = bind.execute(
        sa.select(sa.func.count()).select_from(ARCHIVE_ROWS).where(ARCHIVE_ROWS.c.origin != ORIGIN)
    ).one()
    if n:
        lost.append(f"rms_archive: {n} rows archived by data migrations")
    if lost:
        raise SchemaMigrationError(
            "downgrading to 0001 would delete data that revision has no place for ("
            + "; ".join(lost)
            + "); nothing was changed. Export it first, or pass discard=True to "
            "rms.schema.migrations.downgrade to drop it"
        )


# --- the revision ------------------------------------------------------------------------


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    _archive_table(sa.MetaData()).create(bind)
    op.create_index("rms_archive_origin_table_name_idx", "rms_archive", ["origin", "table_name"])
    _archive_checkboxes(bind)
    if dialect == "sqlite":
        _sqlite_rebuild(bind, 2)
    else:
        _pg_alter(2)
        for column in CHECKBOXES:
            op.drop_column("screener", column)
        op.add_column("universe", sa.Column("volatility_calculated_at", _instant()))
        op.add_column("universe", sa.Column("volatility_long", sa.Text()))
        op.add_column("universe", sa.Column("volatility_short", sa.Text()))
    _create_new_tables(dialect)


def downgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    _refuse_data_loss(bind)
    for table in reversed(NEW_TABLES):
        op.drop_table(table)
    if dialect == "sqlite":
        _sqlite_rebuild(bind, 1)
    else:
        op.execute('DROP TYPE "CusipCacheSource"')
        for column in VOLATILITY:
            op.drop_column("universe", column)
        for column in CHECKBOXES:
            op.add_column(
                "screener",
                sa.Column(column, sa.Boolean(), server_default=sa.text("false"), nullable=False),
            )
        _pg_alter(1)
    _restore_checkboxes(bind)
    op.drop_index("rms_archive_origin_table_name_idx", table_name="rms_archive")
    op.drop_table("rms_archive")
