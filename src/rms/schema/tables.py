"""SQLAlchemy models of the nine RMS tables.

Names are the existing application's, case included (``divDeposits``, ``createdAt``), so
PostgreSQL identifiers are quoted. Ids are TEXT; floats are double precision; instants are
timezone-aware and kept to the millisecond. Constraint names follow :data:`NAMING`, which
lets :mod:`rms.db.errors` name the offending column from a constraint name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from rms.schema.types import UTCDateTime, utcnow

__all__ = [
    "NAMING",
    "Account",
    "Base",
    "DivDeposit",
    "DivDepositType",
    "Holiday",
    "RiskGroup",
    "Row",
    "Screener",
    "Setting",
    "Trade",
    "Universe",
    "metadata",
]

NAMING = {
    "pk": "pk_%(table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s",
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

metadata = MetaData(naming_convention=NAMING)

JSONValue = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = metadata


class Common:
    """Columns every RMS table has: soft delete, timestamps and an optimistic-lock version."""

    createdAt: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updatedAt: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    deletedAt: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))


class Row(Common, Base):
    """Any RMS table row (the common columns plus the declarative base)."""

    __abstract__ = True


def _fk(target: str) -> Any:
    return ForeignKey(target, ondelete="RESTRICT", onupdate="CASCADE")


class Account(Row):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)


class RiskGroup(Row):
    __tablename__ = "risk_group"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text, unique=True)


class Universe(Row):
    __tablename__ = "universe"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    distribution: Mapped[float] = mapped_column(Double)
    distributions_per_year: Mapped[int] = mapped_column(Integer)
    last_price: Mapped[float] = mapped_column(Double)
    most_recent_sell_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    most_recent_sell_price: Mapped[float | None] = mapped_column(Double)
    symbol: Mapped[str] = mapped_column(Text, unique=True)
    ex_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    risk_group_id: Mapped[str] = mapped_column(Text, _fk("risk_group.id"), index=True)
    expired: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false"), index=True
    )
    is_closed_end_fund: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=text("true")
    )


class Trade(Row):
    __tablename__ = "trades"
    __table_args__ = (Index("ix_trades_accountId_sell_date", "accountId", "sell_date"),)

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    universeId: Mapped[str] = mapped_column(Text, _fk("universe.id"), index=True)
    accountId: Mapped[str] = mapped_column(Text, _fk("accounts.id"), index=True)
    buy: Mapped[float] = mapped_column(Double)
    sell: Mapped[float] = mapped_column(Double)
    buy_date: Mapped[datetime] = mapped_column(UTCDateTime())
    quantity: Mapped[int] = mapped_column(Integer)
    sell_date: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)


class Holiday(Row):
    __tablename__ = "holidays"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    date: Mapped[datetime] = mapped_column(UTCDateTime(), unique=True)
    name: Mapped[str] = mapped_column(Text)


class DivDepositType(Row):
    __tablename__ = "divDepositType"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    name: Mapped[str] = mapped_column(Text)


class DivDeposit(Row):
    __tablename__ = "divDeposits"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    date: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    amount: Mapped[float] = mapped_column(Double)
    accountId: Mapped[str] = mapped_column(Text, _fk("accounts.id"), index=True)
    divDepositTypeId: Mapped[str] = mapped_column(Text, _fk("divDepositType.id"), index=True)
    universeId: Mapped[str | None] = mapped_column(Text, _fk("universe.id"), index=True)


class Screener(Row):
    __tablename__ = "screener"

    id: Mapped[str] = mapped_column(Text, primary_key=True)
    symbol: Mapped[str] = mapped_column(Text, unique=True)
    distribution: Mapped[float] = mapped_column(Double)
    distributions_per_year: Mapped[int] = mapped_column(Integer)
    last_price: Mapped[float] = mapped_column(Double)
    ex_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    risk_group_id: Mapped[str] = mapped_column(Text, _fk("risk_group.id"), index=True)
    has_volitility: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    objectives_understood: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )
    graph_higher_before_2008: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=text("false")
    )


class Setting(Row):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    value: Mapped[Any] = mapped_column(JSONValue)
