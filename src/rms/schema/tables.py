"""SQLAlchemy models of the RMS tables: the application's latest schema, plus our own.

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

:mod:`rms.db.errors` maps these names back to columns, so error messages name the column.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Double,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.sqlite import REAL
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.schema import Constraint, Table
from sqlalchemy.types import TypeEngine

from rms.schema.types import UTCDateTime, utcnow

__all__ = [
    "CUSIP_CACHE_SOURCES",
    "NAMING",
    "SERVICE_STATE_TABLES",
    "Account",
    "ArchivedValue",
    "Base",
    "CusipCache",
    "CusipCacheArchive",
    "CusipCacheAudit",
    "DivDeposit",
    "DivDepositType",
    "Holiday",
    "RiskGroup",
    "Row",
    "Screener",
    "Setting",
    "SignInSession",
    "Trade",
    "Universe",
    "metadata",
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


class Base(DeclarativeBase):
    metadata = metadata


class Common:
    """Columns every RMS table of the application has: timestamps, soft delete, version."""

    createdAt: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=NOW)
    updatedAt: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deletedAt: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))


class Row(Common, Base):
    """A row of one of the soft-deleted, versioned RMS tables."""

    __abstract__ = True


def _fk(target: str, *, optional: bool = False) -> Any:
    """A relation with Prisma's default rules (an optional one nulls itself on delete)."""
    return ForeignKey(target, ondelete="SET NULL" if optional else "RESTRICT", onupdate="CASCADE")


def _unique(*columns: str) -> Index:
    """Prisma's ``@unique``: a unique index named ``<table>_<cols>_key``."""
    return Index(None, *columns, unique=True)


def _index(*columns: str) -> Index:
    """Prisma's ``@@index``: ``<table>_<cols>_idx``."""
    return Index(None, *columns)


class Account(Row):
    __tablename__ = "accounts"
    __table_args__ = (
        _unique("name"),
        _index("name"),
        _index("createdAt"),
        _index("deletedAt"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)


class RiskGroup(Row):
    __tablename__ = "risk_group"
    __table_args__ = (_unique("name"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)


#: ``sort_order`` of columns a revision added to an existing table (they come last).
_ADDED_BY_0002 = 100


class Universe(Row):
    __tablename__ = "universe"
    __table_args__ = (
        _unique("symbol"),
        _index("expired"),
        _index("risk_group_id"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    distribution: Mapped[float] = mapped_column(Float)
    distributions_per_year: Mapped[int] = mapped_column(Integer)
    last_price: Mapped[float] = mapped_column(Float)
    most_recent_sell_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    most_recent_sell_price: Mapped[float | None] = mapped_column(Float)
    symbol: Mapped[str] = mapped_column(Text)
    ex_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    risk_group_id: Mapped[str] = mapped_column(Text, _fk("risk_group.id"))
    expired: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    is_closed_end_fund: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=text("true")
    )
    # Added by revision 0002 after the columns every table has, in this order: sort_order
    # puts them there, so a schema created from these models is column for column the one
    # the history builds (tests/schema/test_head.py).
    volatility_calculated_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), sort_order=_ADDED_BY_0002
    )
    volatility_long: Mapped[str | None] = mapped_column(Text, sort_order=_ADDED_BY_0002)
    volatility_short: Mapped[str | None] = mapped_column(Text, sort_order=_ADDED_BY_0002)


class Trade(Row):
    __tablename__ = "trades"
    __table_args__ = (
        _index("accountId"),
        _index("buy_date"),
        _index("sell_date"),
        _index("accountId", "buy_date"),
        _index("accountId", "sell_date"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    universeId: Mapped[str] = mapped_column(Text, _fk("universe.id"))
    accountId: Mapped[str] = mapped_column(Text, _fk("accounts.id"))
    buy: Mapped[float] = mapped_column(Float)
    sell: Mapped[float] = mapped_column(Float)
    buy_date: Mapped[datetime] = mapped_column(UTCDateTime())
    quantity: Mapped[int] = mapped_column(Integer)
    sell_date: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Holiday(Row):
    __tablename__ = "holidays"
    __table_args__ = (_unique("date"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    date: Mapped[datetime] = mapped_column(UTCDateTime())
    name: Mapped[str] = mapped_column(Text)


class DivDepositType(Row):
    __tablename__ = "divDepositType"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)


class DivDeposit(Row):
    __tablename__ = "divDeposits"
    __table_args__ = (
        _index("accountId"),
        _index("date"),
        _index("accountId", "date"),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    date: Mapped[datetime] = mapped_column(UTCDateTime())
    amount: Mapped[float] = mapped_column(Float)
    accountId: Mapped[str] = mapped_column(Text, _fk("accounts.id"))
    divDepositTypeId: Mapped[str] = mapped_column(Text, _fk("divDepositType.id"))
    universeId: Mapped[str | None] = mapped_column(Text, _fk("universe.id", optional=True))


class Screener(Row):
    """The screener; its three checkbox columns went in revision 0002 (into rms_archive)."""

    __tablename__ = "screener"
    __table_args__ = (_unique("symbol"), _index("risk_group_id"))

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    symbol: Mapped[str] = mapped_column(Text)
    distribution: Mapped[float] = mapped_column(Float)
    distributions_per_year: Mapped[int] = mapped_column(Integer)
    last_price: Mapped[float] = mapped_column(Float)
    ex_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    risk_group_id: Mapped[str] = mapped_column(Text, _fk("risk_group.id"))


class Setting(Row):
    """Our own key/value settings (not in the application's schema)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[Any] = mapped_column(JSONValue)


class CusipCache(Base):
    """CUSIP -> symbol resolutions the application caches (no soft delete, no version)."""

    __tablename__ = "cusip_cache"
    __table_args__ = (
        _unique("cusip"),
        _index("cusip"),
        _index("resolvedAt"),
        _index("lastUsedAt"),
        CheckConstraint("source IN ('THIRTEENF', 'YAHOO_FINANCE')", name="source").ddl_if(
            dialect="sqlite"
        ),
    )

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    cusip: Mapped[str] = mapped_column(Text)
    symbol: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(CusipCacheSourceType)
    resolvedAt: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=NOW)
    lastUsedAt: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=NOW)
    createdAt: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=NOW)
    updatedAt: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CusipCacheArchive(Base):
    """Resolutions the application retired from the cache (written by the application)."""

    __tablename__ = "cusip_cache_archive"
    __table_args__ = (_index("archivedAt"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    cusip: Mapped[str] = mapped_column(Text)
    symbol: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    resolvedAt: Mapped[datetime] = mapped_column(UTCDateTime())
    archivedAt: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=NOW)
    reason: Mapped[str | None] = mapped_column(Text)


class CusipCacheAudit(Base):
    """The application's audit trail of cache changes."""

    __tablename__ = "cusip_cache_audit"
    __table_args__ = (_index("createdAt"), _index("cusip"))

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    cusip: Mapped[str] = mapped_column(Text)
    symbol: Mapped[str] = mapped_column(Text)
    action: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(Text)
    userId: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    createdAt: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=NOW)


class ArchivedValue(Base):
    """``rms_archive``: values kept after the schema stopped having a place for them.

    One row per archived value (``column_name`` set) or whole row (``column_name`` NULL,
    ``value`` a JSON object of the row). ``origin`` says who archived it and when it can be
    given back: ``alembic:0002`` (revision 0002 moved the screener checkboxes here; its
    downgrade puts them back) or ``migrate:<run id>`` (a data migration archived what the
    application itself had dropped). ``value`` is JSON (JSONB on PostgreSQL), so a value
    keeps its type: booleans, numbers (epoch ms stay integers) and text stay apart.
    """

    __tablename__ = "rms_archive"
    __table_args__ = (_index("origin", "table_name"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    origin: Mapped[str] = mapped_column(Text)
    table_name: Mapped[str] = mapped_column(Text)
    #: The archived row's id; NULL for a row without one (e.g. a join-table row).
    row_id: Mapped[str | None] = mapped_column(Text)
    column_name: Mapped[str | None] = mapped_column(Text)
    value: Mapped[Any] = mapped_column(JSONValue)
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=NOW)


#: The service's own state, not portfolio data: the migration and export tools never move
#: these tables (a session is ephemeral and belongs to the database it was made in).
SERVICE_STATE_TABLES: frozenset[str] = frozenset({"rms_session"})


class SignInSession(Base):
    """``rms_session``: one row per browser sign-in that has not ended (revision 0003).

    The session cookie carries a random session id (signed with the session key); the row
    is keyed by the id's SHA-256, so the table alone (a backup, a read-only role) gives no
    cookie. Sign-out deletes the row, "sign out everywhere" deletes every row, so a copied
    cookie stops working at once on every instance that reads this database.
    """

    __tablename__ = "rms_session"
    __table_args__ = (_index("expires"),)

    #: SHA-256 (hex) of the cookie's session id.
    id: Mapped[str] = mapped_column(Text, primary_key=True)
    subject: Mapped[str] = mapped_column(Text)
    #: How the owner signed in: ``token`` (the local token) or ``oidc``.
    method: Mapped[str] = mapped_column(Text)
    #: The OIDC issuer of an ``oidc`` session; NULL for a local-token one.
    issuer: Mapped[str | None] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(UTCDateTime())
    expires: Mapped[datetime] = mapped_column(UTCDateTime())
