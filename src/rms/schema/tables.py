"""The ORM classes of the RMS tables, mapped onto the Core tables of :mod:`rms.schema.core`.

The schema itself (names, types, keys, indexes, what is the application's and what is ours)
is described and defined there; this module only maps a class onto each table, so the
code that needs no ORM (migration, transfer, export, Alembic) does not import it.
``metadata`` and the constants are re-exported from :mod:`rms.schema.core`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import DeclarativeBase, Mapped

from rms.schema import core
from rms.schema.core import CUSIP_CACHE_SOURCES, NAMING, SERVICE_STATE_TABLES, metadata

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


class Base(DeclarativeBase):
    metadata = metadata


class Row(Base):
    """A row of one of the soft-deleted, versioned RMS tables."""

    __abstract__ = True

    if TYPE_CHECKING:  # the columns every such table has (rms.schema.core._common)
        createdAt: Mapped[datetime]
        updatedAt: Mapped[datetime]
        deletedAt: Mapped[datetime | None]
        version: Mapped[int]


class Account(Row):
    __table__ = core.accounts
    __tablename__ = core.accounts.name

    id: Mapped[str]
    name: Mapped[str]


class RiskGroup(Row):
    __table__ = core.risk_group
    __tablename__ = core.risk_group.name

    id: Mapped[str]
    name: Mapped[str]


class Universe(Row):
    __table__ = core.universe
    __tablename__ = core.universe.name

    id: Mapped[str]
    distribution: Mapped[float]
    distributions_per_year: Mapped[int]
    last_price: Mapped[float]
    most_recent_sell_date: Mapped[datetime | None]
    most_recent_sell_price: Mapped[float | None]
    symbol: Mapped[str]
    ex_date: Mapped[datetime | None]
    risk_group_id: Mapped[str]
    expired: Mapped[bool]
    is_closed_end_fund: Mapped[bool]
    volatility_calculated_at: Mapped[datetime | None]
    volatility_long: Mapped[str | None]
    volatility_short: Mapped[str | None]


class Trade(Row):
    __table__ = core.trades
    __tablename__ = core.trades.name

    id: Mapped[str]
    universeId: Mapped[str]
    accountId: Mapped[str]
    buy: Mapped[float]
    sell: Mapped[float]
    buy_date: Mapped[datetime]
    quantity: Mapped[int]
    sell_date: Mapped[datetime | None]


class Holiday(Row):
    __table__ = core.holidays
    __tablename__ = core.holidays.name

    id: Mapped[str]
    date: Mapped[datetime]
    name: Mapped[str]


class DivDepositType(Row):
    __table__ = core.div_deposit_type
    __tablename__ = core.div_deposit_type.name

    id: Mapped[str]
    name: Mapped[str]


class DivDeposit(Row):
    __table__ = core.div_deposits
    __tablename__ = core.div_deposits.name

    id: Mapped[str]
    date: Mapped[datetime]
    amount: Mapped[float]
    accountId: Mapped[str]
    divDepositTypeId: Mapped[str]
    universeId: Mapped[str | None]


class Screener(Row):
    """The screener; its three checkbox columns went in revision 0002 (into rms_archive)."""

    __table__ = core.screener
    __tablename__ = core.screener.name

    id: Mapped[str]
    symbol: Mapped[str]
    distribution: Mapped[float]
    distributions_per_year: Mapped[int]
    last_price: Mapped[float]
    ex_date: Mapped[datetime | None]
    risk_group_id: Mapped[str]


class Setting(Row):
    """Our own key/value settings (not in the application's schema)."""

    __table__ = core.settings
    __tablename__ = core.settings.name

    key: Mapped[str]
    value: Mapped[Any]


class CusipCache(Base):
    """CUSIP -> symbol resolutions the application caches (no soft delete, no version)."""

    __table__ = core.cusip_cache
    __tablename__ = core.cusip_cache.name

    id: Mapped[str]
    cusip: Mapped[str]
    symbol: Mapped[str]
    source: Mapped[str]
    resolvedAt: Mapped[datetime]
    lastUsedAt: Mapped[datetime]
    createdAt: Mapped[datetime]
    updatedAt: Mapped[datetime]


class CusipCacheArchive(Base):
    """Resolutions the application retired from the cache (written by the application)."""

    __table__ = core.cusip_cache_archive
    __tablename__ = core.cusip_cache_archive.name

    id: Mapped[str]
    cusip: Mapped[str]
    symbol: Mapped[str]
    source: Mapped[str]
    resolvedAt: Mapped[datetime]
    archivedAt: Mapped[datetime]
    reason: Mapped[str | None]


class CusipCacheAudit(Base):
    """The application's audit trail of cache changes."""

    __table__ = core.cusip_cache_audit
    __tablename__ = core.cusip_cache_audit.name

    id: Mapped[str]
    cusip: Mapped[str]
    symbol: Mapped[str]
    action: Mapped[str]
    source: Mapped[str]
    userId: Mapped[str | None]
    reason: Mapped[str | None]
    createdAt: Mapped[datetime]


class ArchivedValue(Base):
    """``rms_archive``: values kept after the schema stopped having a place for them
    (see :data:`rms.schema.core.rms_archive`)."""

    __table__ = core.rms_archive
    __tablename__ = core.rms_archive.name

    id: Mapped[str]
    origin: Mapped[str]
    table_name: Mapped[str]
    row_id: Mapped[str | None]
    column_name: Mapped[str | None]
    value: Mapped[Any]
    archived_at: Mapped[datetime]


class SignInSession(Base):
    """``rms_session``: one row per browser sign-in that has not ended (revision 0003;
    see :data:`rms.schema.core.rms_session`)."""

    __table__ = core.rms_session
    __tablename__ = core.rms_session.name

    #: SHA-256 (hex) of the cookie's session id.
    id: Mapped[str]
    subject: Mapped[str]
    #: How the owner signed in: ``token`` (the local token) or ``oidc``.
    method: Mapped[str]
    #: The OIDC issuer of an ``oidc`` session; NULL for a local-token one.
    issuer: Mapped[str | None]
    created: Mapped[datetime]
    expires: Mapped[datetime]
