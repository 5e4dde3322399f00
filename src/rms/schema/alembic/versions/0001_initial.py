"""initial schema: the nine RMS tables

Revision ID: 0001
Revises:
Create Date: 2026-11-21 12:19:37.280947

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""

    op.create_table(
        "accounts",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("createdAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updatedAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deletedAt", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("name", name=op.f("uq_accounts_name")),
    )
    op.create_table(
        "divDepositType",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("createdAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updatedAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deletedAt", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_divDepositType")),
    )
    op.create_table(
        "holidays",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("createdAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updatedAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deletedAt", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holidays")),
        sa.UniqueConstraint("date", name=op.f("uq_holidays_date")),
    )
    op.create_table(
        "risk_group",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("createdAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updatedAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deletedAt", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_group")),
        sa.UniqueConstraint("name", name=op.f("uq_risk_group_name")),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column(
            "value", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("createdAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updatedAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deletedAt", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "screener",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("distribution", sa.Double(), nullable=False),
        sa.Column("distributions_per_year", sa.Integer(), nullable=False),
        sa.Column("last_price", sa.Double(), nullable=False),
        sa.Column("ex_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("risk_group_id", sa.Text(), nullable=False),
        sa.Column(
            "has_volitility", sa.Boolean(), server_default=sa.text("(false)"), nullable=False
        ),
        sa.Column(
            "objectives_understood", sa.Boolean(), server_default=sa.text("(false)"), nullable=False
        ),
        sa.Column(
            "graph_higher_before_2008",
            sa.Boolean(),
            server_default=sa.text("(false)"),
            nullable=False,
        ),
        sa.Column("createdAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updatedAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deletedAt", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["risk_group_id"],
            ["risk_group.id"],
            name=op.f("fk_screener_risk_group_id"),
            onupdate="CASCADE",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_screener")),
        sa.UniqueConstraint("symbol", name=op.f("uq_screener_symbol")),
    )
    with op.batch_alter_table("screener", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_screener_risk_group_id"), ["risk_group_id"], unique=False
        )

    op.create_table(
        "universe",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("distribution", sa.Double(), nullable=False),
        sa.Column("distributions_per_year", sa.Integer(), nullable=False),
        sa.Column("last_price", sa.Double(), nullable=False),
        sa.Column("most_recent_sell_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("most_recent_sell_price", sa.Double(), nullable=True),
        sa.Column("symbol", sa.Text(), nullable=False),
        sa.Column("ex_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("risk_group_id", sa.Text(), nullable=False),
        sa.Column("expired", sa.Boolean(), server_default=sa.text("(false)"), nullable=False),
        sa.Column(
            "is_closed_end_fund", sa.Boolean(), server_default=sa.text("(true)"), nullable=False
        ),
        sa.Column("createdAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updatedAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deletedAt", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["risk_group_id"],
            ["risk_group.id"],
            name=op.f("fk_universe_risk_group_id"),
            onupdate="CASCADE",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_universe")),
        sa.UniqueConstraint("symbol", name=op.f("uq_universe_symbol")),
    )
    with op.batch_alter_table("universe", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_universe_expired"), ["expired"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_universe_risk_group_id"), ["risk_group_id"], unique=False
        )

    op.create_table(
        "divDeposits",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount", sa.Double(), nullable=False),
        sa.Column("accountId", sa.Text(), nullable=False),
        sa.Column("divDepositTypeId", sa.Text(), nullable=False),
        sa.Column("universeId", sa.Text(), nullable=True),
        sa.Column("createdAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updatedAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deletedAt", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["accountId"],
            ["accounts.id"],
            name=op.f("fk_divDeposits_accountId"),
            onupdate="CASCADE",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["divDepositTypeId"],
            ["divDepositType.id"],
            name=op.f("fk_divDeposits_divDepositTypeId"),
            onupdate="CASCADE",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["universeId"],
            ["universe.id"],
            name=op.f("fk_divDeposits_universeId"),
            onupdate="CASCADE",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_divDeposits")),
    )
    with op.batch_alter_table("divDeposits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_divDeposits_accountId"), ["accountId"], unique=False)
        batch_op.create_index(batch_op.f("ix_divDeposits_date"), ["date"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_divDeposits_divDepositTypeId"), ["divDepositTypeId"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_divDeposits_universeId"), ["universeId"], unique=False)

    op.create_table(
        "trades",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("universeId", sa.Text(), nullable=False),
        sa.Column("accountId", sa.Text(), nullable=False),
        sa.Column("buy", sa.Double(), nullable=False),
        sa.Column("sell", sa.Double(), nullable=False),
        sa.Column("buy_date", sa.DateTime(timezone=True), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("sell_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("createdAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updatedAt", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deletedAt", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.ForeignKeyConstraint(
            ["accountId"],
            ["accounts.id"],
            name=op.f("fk_trades_accountId"),
            onupdate="CASCADE",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["universeId"],
            ["universe.id"],
            name=op.f("fk_trades_universeId"),
            onupdate="CASCADE",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trades")),
    )
    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trades_accountId"), ["accountId"], unique=False)
        batch_op.create_index(
            "ix_trades_accountId_sell_date", ["accountId", "sell_date"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_trades_sell_date"), ["sell_date"], unique=False)
        batch_op.create_index(batch_op.f("ix_trades_universeId"), ["universeId"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""

    with op.batch_alter_table("trades", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trades_universeId"))
        batch_op.drop_index(batch_op.f("ix_trades_sell_date"))
        batch_op.drop_index("ix_trades_accountId_sell_date")
        batch_op.drop_index(batch_op.f("ix_trades_accountId"))

    op.drop_table("trades")
    with op.batch_alter_table("divDeposits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_divDeposits_universeId"))
        batch_op.drop_index(batch_op.f("ix_divDeposits_divDepositTypeId"))
        batch_op.drop_index(batch_op.f("ix_divDeposits_date"))
        batch_op.drop_index(batch_op.f("ix_divDeposits_accountId"))

    op.drop_table("divDeposits")
    with op.batch_alter_table("universe", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_universe_risk_group_id"))
        batch_op.drop_index(batch_op.f("ix_universe_expired"))

    op.drop_table("universe")
    with op.batch_alter_table("screener", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_screener_risk_group_id"))

    op.drop_table("screener")
    op.drop_table("settings")
    op.drop_table("risk_group")
    op.drop_table("holidays")
    op.drop_table("divDepositType")
    op.drop_table("accounts")
