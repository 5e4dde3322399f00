"""the service's sign-in sessions: rms_session

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05 10:00:00

Adds ``rms_session`` (see :class:`rms.schema.tables.SignInSession`): one row per browser
sign-in, so that sign-out ends a session on every instance that shares the database.
It is the service's own state, not the application's: the application's Prisma client
ignores it, and the migration and export tools do not move it. The downgrade drops it
(every browser then signs in again; no portfolio data is lost).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant() -> Any:
    """An instant as the models keep it: ``timestamp(3)`` (UTC) on PostgreSQL, DATETIME on
    SQLite (holding Prisma 7's text form, see :mod:`rms.schema.types`)."""
    return sa.DateTime().with_variant(postgresql.TIMESTAMP(precision=3), "postgresql")


def upgrade() -> None:
    op.create_table(
        "rms_session",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=True),
        sa.Column("created", _instant(), nullable=False),
        sa.Column("expires", _instant(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="rms_session_pkey"),
    )
    op.create_index("rms_session_expires_idx", "rms_session", ["expires"])


def downgrade() -> None:
    op.drop_index("rms_session_expires_idx", table_name="rms_session")
    op.drop_table("rms_session")
