"""stages.lease: the lease id a runner accepted a stage under

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 07:32:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    with op.batch_alter_table("stages") as batch:
        batch.add_column(sa.Column("lease", sa.String(), nullable=False, server_default=""))


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("stages") as batch:
        batch.drop_column("lease")
