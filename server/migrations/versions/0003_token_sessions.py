"""tokens.kind and tokens.expires: browser sessions are tokens that expire

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 09:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("kind", sa.String(), nullable=False, server_default="api"))
        batch.add_column(sa.Column("expires", sa.Float(), nullable=True))


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("expires")
        batch.drop_column("kind")
