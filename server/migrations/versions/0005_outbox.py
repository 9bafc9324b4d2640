"""outbox: the notifications still to send, written with the change that causes them (Redis may lose jobs)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 11:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("build_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["build_id"], ["builds.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_outbox_build_id", "outbox", ["build_id"])


def downgrade() -> None:
    """Revert."""
    op.drop_index("ix_outbox_build_id", table_name="outbox")
    op.drop_table("outbox")
