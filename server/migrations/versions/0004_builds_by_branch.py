"""ix_builds_repo_branch: a branch's builds (badges, the dashboard, `?branch=`) without scanning the others

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 10:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply."""
    op.create_index("ix_builds_repo_branch", "builds", ["repo_id", "branch", "number"])


def downgrade() -> None:
    """Revert."""
    op.drop_index("ix_builds_repo_branch", table_name="builds")
