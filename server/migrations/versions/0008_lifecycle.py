"""builds that are not pushes: cron schedules, a repository's approval mode and signing key, a stage's
concurrency limit

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply (new columns are added in place: SQLite's tables keep AUTOINCREMENT)."""
    op.create_table(
        "crons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("expr", sa.String(length=200), nullable=False),
        sa.Column("branch", sa.String(length=200), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("next_run", sa.Float(), nullable=False),
        sa.Column("prev_run", sa.Float(), nullable=True),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["repo_id"], ["repos.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("repo_id", "name"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_crons_repo_id", "crons", ["repo_id"])
    op.add_column("repos", sa.Column("approval", sa.String(), nullable=False, server_default="forks"))
    op.add_column("repos", sa.Column("protected", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("repos", sa.Column("signing_key", sa.String(), nullable=False, server_default=""))
    op.add_column("stages", sa.Column("concurrency_limit", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("stages", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_column("concurrency_limit")
    with op.batch_alter_table("repos", table_kwargs={"sqlite_autoincrement": True}) as batch:
        for column in ("signing_key", "protected", "approval"):
            batch.drop_column(column)
    op.drop_index("ix_crons_repo_id", table_name="crons")
    op.drop_table("crons")
