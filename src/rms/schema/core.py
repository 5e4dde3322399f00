"""The RMS tables in SQLAlchemy Core: the application's latest schema, plus our own.

The application's (Prisma) schema is the reference, down to the DDL it would create on
PostgreSQL (``../shared/design/SCHEMA-HISTORY.md``, "the latest schema"), so the application's
own Prisma client runs on our database:

* names are the application's, case included (``divDeposits``, ``createdAt``), so PostgreSQL
  identifiers are quoted; ids are TEXT; floats are double precision; instants are
  ``timestamp(3)`` holding UTC on PostgreSQL (see :mod:`rms.schema.types` for SQLite);
* constraint and index names are Prisma's (:data:`NAMING`): ``<table>_pkey``,
  ``<table>_<cols>_key`` (a unique *index*, as Prisma creates them, not a constraint),
  ``<table>_<cols>_fkey``, ``<table>_<cols>_idx``, columns joined by ``_``; every index of
  the application's schema is declared, and no other;
* relations follow Prisma's defaults: required ones ``ON DELETE RESTRICT ON UPDATE
  CASCADE``, optional ones (``divDeposits.universeId``) ``ON DELETE SET NULL``;
* ``@default(now())`` is ``DEFAULT CURRENT_TIMESTAMP``; ``@updatedAt`` has no default.

Our own additions, which the application's client ignores: the ``settings`` table, a
``version`` column (DEFAULT 1, for optimistic concurrency) on ``trades`` and
``divDepositType`` as on the other tables, the ``rms_archive`` table (values the schema no
longer has a column for, e.g. the screener checkboxes that revision 0002 removed), and on
SQLite only a CHECK on ``cusip_cache.source`` (PostgreSQL's enum type refuses the same
values, so a SQLite file of ours never holds one PostgreSQL would refuse).

The service's own state, which is not portfolio data (:data:`SERVICE_STATE_TABLES`): the
``rms_session`` table of sign-in sessions (revision 0003). The migration and export tools
do not move it between databases; each database keeps its own sessions.

These are Core tables only: the migration, transfer and export tools need names, types,
keys and DDL, not ``sqlalchemy.orm`` (whose import alone is a good part of a small
migration's start). :mod:`rms.schema.tables` maps the ORM classes onto them.

:mod:`rms.db.errors` maps these names back to columns, so error messages name the column.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Double,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.sqlite import REAL
from sqlalchemy.schema import Constraint
from sqlalchemy.types import TypeEngine

from rms.schema.types import UTCDateTime, utcnow

__all__ = [
    "CUSIP_CACHE_SOURCES",
    "NAMING",
    "SERVICE_STATE_TABLES",
    "accounts",
    "cusip_cache",
    "cusip_cache_archive",
    "cusip_cache_audit",
    "div_deposit_type",
    "div_deposits",
    "holidays",
    "metadata",
    "risk_group",
    "rms_archive",
    "rms_session",
    "screener",
    "settings",
    "trades",
    "universe",
]


def _key_or_idx(constraint: Constraint | Index, _table: Table) -> str:
    """Prisma's suffix for an index: ``key`` for a unique one (``@unique``), else ``idx``."""
    return "key" if getattr(constraint, "unique", False) else "idx"


NAMING: dict[str, Any] = {
    "key_or_idx": _key_or_idx,
    "pk": "%(table_name)s_pkey",
    "uq": "%(table_name)s_%(column_0_N_name)s_key",
    "fk": "%(table_name)s_%(column_0_N_name)s_fkey",
    "ix": "%(table_name)s_%(column_0_N_name)s_%(key_or_idx)s",
    "ck": "%(table_name)s_%(constraint_name)s_check",
}

metadata = MetaData(naming_convention=NAMING)

JSONValue = JSON().with_variant(JSONB(), "postgresql")
#: Prisma's ``Float``: ``double precision`` on PostgreSQL, ``REAL`` (8 bytes) on SQLite.
Float: TypeEngine[float] = Double().with_variant(REAL(), "sqlite")

#: The values of the application's ``CusipCacheSource`` enum (since its migration 20).
CUSIP_CACHE_SOURCES = ("THIRTEENF", "YAHOO_FINANCE")

#: ``enum CusipCacheSource``: a PostgreSQL enum type of that name; TEXT on SQLite, as Prisma.
CusipCacheSourceType = Enum(
    *CUSIP_CACHE_SOURCES, name="CusipCacheSource", native_enum=True, create_constraint=False
).with_variant(Text(), "sqlite")

NOW = text("CURRENT_TIMESTAMP")

#: The service's own state, not portfolio data: the migration and export tools never move
#: these tables (a session is ephemeral and belongs to the database it was made in).
SERVICE_STATE_TABLES: frozenset[str] = frozenset({"rms_session"})


def _id(name: str = "id") -> Column[str]:
    return Column(name, Text, primary_key=True)


def _text(name: str, *args: Any, nullable: bool = False) -> Column[str]:
    return Column(name, Text, *args, nullable=nullable)


def _float(name: str, *, nullable: bool = False) -> Column[float]:
    return Column(name, Float, nullable=nullable)


def _int(name: str) -> Column[int]:
    return Column(name, Integer, nullable=False)


def _bool(name: str, *, default: bool) -> Column[bool]:
    return Column(
        name, Boolean, default=default, server_default=text(str(default).lower()), nullable=False
    )


def _instant(name: str, *, nullable: bool = False, now: bool = False) -> Column[Any]:
    """An instant; ``now``: ``@default(now())`` (and the current time from Python too)."""
    if now:
        return Column(name, UTCDateTime(), default=utcnow, server_default=NOW, nullable=False)
    return Column(name, UTCDateTime(), nullable=nullable)


def _common() -> list[Column[Any]]:
    """Columns every RMS table of the application has: timestamps, soft delete, version.

    They come after the table's own columns (where the ORM mixin used to put them).
    """
    return [
        _instant("createdAt", now=True),
        Column("updatedAt", UTCDateTime(), default=utcnow, nullable=False),
        _instant("deletedAt", nullable=True),
        Column("version", Integer, default=1, server_default=text("1"), nullable=False),
    ]


def _fk(target: str, *, optional: bool = False) -> ForeignKey:
    """A relation with Prisma's default rules (an optional one nulls itself on delete)."""
    return ForeignKey(target, ondelete="SET NULL" if optional else "RESTRICT", onupdate="CASCADE")


def _unique(*columns: str) -> Index:
    """Prisma's ``@unique``: a unique index named ``<table>_<cols>_key``."""
    return Index(None, *columns, unique=True)


def _index(*columns: str) -> Index:
    """Prisma's ``@@index``: ``<table>_<cols>_idx``."""
    return Index(None, *columns)


accounts = Table(
    "accounts",
    metadata,
    _id(),
    _text("name"),
    *_common(),
    _unique("name"),
    _index("name"),
    _index("createdAt"),
    _index("deletedAt"),
)

risk_group = Table(
    "risk_group",
    metadata,
    _id(),
    _text("name"),
    *_common(),
    _unique("name"),
)

universe = Table(
    "universe",
    metadata,
    _id(),
    _float("distribution"),
    _int("distributions_per_year"),
    _float("last_price"),
    _instant("most_recent_sell_date", nullable=True),
    _float("most_recent_sell_price", nullable=True),
    _text("symbol"),
    _instant("ex_date", nullable=True),
    _text("risk_group_id", _fk("risk_group.id")),
    _bool("expired", default=False),
    _bool("is_closed_end_fund", default=True),
    *_common(),
    # Added by revision 0002 after the columns every table has, in this order, so a schema
    # created from these tables is column for column the one the history builds
    # (tests/schema/test_head.py).
    _instant("volatility_calculated_at", nullable=True),
    _text("volatility_long", nullable=True),
    _text("volatility_short", nullable=True),
    _unique("symbol"),
    _index("expired"),
    _index("risk_group_id"),
)

trades = Table(
    "trades",
    metadata,
    _id(),
    _text("universeId", _fk("universe.id")),
    _text("accountId", _fk("accounts.id")),
    _float("buy"),
    _float("sell"),
    _instant("buy_date"),
    _int("quantity"),
    _instant("sell_date", nullable=True),
    *_common(),
    _index("accountId"),
    _index("buy_date"),
    _index("sell_date"),
    _index("accountId", "buy_date"),
    _index("accountId", "sell_date"),
)

holidays = Table(
    "holidays",
    metadata,
    _id(),
    _instant("date"),
    _text("name"),
    *_common(),
    _unique("date"),
)

div_deposit_type = Table(
    "divDepositType",
    metadata,
    _id(),
    _text("name"),
    *_common(),
)

div_deposits = Table(
    "divDeposits",
    metadata,
    _id(),
    _instant("date"),
    _float("amount"),
    _text("accountId", _fk("accounts.id")),
    _text("divDepositTypeId", _fk("divDepositType.id")),
    _text("universeId", _fk("universe.id", optional=True), nullable=True),
    *_common(),
    _index("accountId"),
    _index("date"),
    _index("accountId", "date"),
)

#: The screener; its three checkbox columns went in revision 0002 (into rms_archive).
screener = Table(
    "screener",
    metadata,
    _id(),
    _text("symbol"),
    _float("distribution"),
    _int("distributions_per_year"),
    _float("last_price"),
    _instant("ex_date", nullable=True),
    _text("risk_group_id", _fk("risk_group.id")),
    *_common(),
    _unique("symbol"),
    _index("risk_group_id"),
)

#: Our own key/value settings (not in the application's schema).
settings = Table(
    "settings",
    metadata,
    _id("key"),
    Column("value", JSONValue, nullable=False),
    *_common(),
)

#: CUSIP -> symbol resolutions the application caches (no soft delete, no version).
cusip_cache = Table(
    "cusip_cache",
    metadata,
    _id(),
    _text("cusip"),
    _text("symbol"),
    Column("source", CusipCacheSourceType, nullable=False),
    _instant("resolvedAt", now=True),
    _instant("lastUsedAt", now=True),
    _instant("createdAt", now=True),
    Column("updatedAt", UTCDateTime(), default=utcnow, nullable=False),
    _unique("cusip"),
    _index("cusip"),
    _index("resolvedAt"),
    _index("lastUsedAt"),
    CheckConstraint("source IN ('THIRTEENF', 'YAHOO_FINANCE')", name="source").ddl_if(
        dialect="sqlite"
    ),
)

#: Resolutions the application retired from the cache (written by the application).
cusip_cache_archive = Table(
    "cusip_cache_archive",
    metadata,
    _id(),
    _text("cusip"),
    _text("symbol"),
    _text("source"),
    _instant("resolvedAt"),
    _instant("archivedAt", now=True),
    _text("reason", nullable=True),
    _index("archivedAt"),
)

#: The application's audit trail of cache changes.
cusip_cache_audit = Table(
    "cusip_cache_audit",
    metadata,
    _id(),
    _text("cusip"),
    _text("symbol"),
    _text("action"),
    _text("source"),
    _text("userId", nullable=True),
    _text("reason", nullable=True),
    _instant("createdAt", now=True),
    _index("createdAt"),
    _index("cusip"),
)

#: ``rms_archive``: values kept after the schema stopped having a place for them.
#:
#: One row per archived value (``column_name`` set) or whole row (``column_name`` NULL,
#: ``value`` a JSON object of the row). ``origin`` says who archived it and when it can be
#: given back: ``alembic:0002`` (revision 0002 moved the screener checkboxes here; its
#: downgrade puts them back) or ``migrate:<run id>`` (a data migration archived what the
#: application itself had dropped). ``value`` is JSON (JSONB on PostgreSQL), so a value
#: keeps its type: booleans, numbers (epoch ms stay integers) and text stay apart.
rms_archive = Table(
    "rms_archive",
    metadata,
    _id(),
    _text("origin"),
    _text("table_name"),
    # The archived row's id; NULL for a row without one (e.g. a join-table row).
    _text("row_id", nullable=True),
    _text("column_name", nullable=True),
    Column("value", JSONValue, nullable=False),
    _instant("archived_at", now=True),
    _index("origin", "table_name"),
)

#: ``rms_session``: one row per browser sign-in that has not ended (revision 0003).
#:
#: The session cookie carries a random session id (signed with the session key); the row
#: is keyed by the id's SHA-256, so the table alone (a backup, a read-only role) gives no
#: cookie. Sign-out deletes the row, "sign out everywhere" deletes every row, so a copied
#: cookie stops working at once on every instance that reads this database.
rms_session = Table(
    "rms_session",
    metadata,
    # SHA-256 (hex) of the cookie's session id.
    _id(),
    _text("subject"),
    # How the owner signed in: ``token`` (the local token) or ``oidc``.
    _text("method"),
    # The OIDC issuer of an ``oidc`` session; NULL for a local-token one.
    _text("issuer", nullable=True),
    _instant("created"),
    _instant("expires"),
    _index("expires"),
)
