"""caches and artifacts: the cache entries runners share through the server (cache_entries), the files
steps keep (artifacts), and a repository's cache settings (automatic lockfile caches, purge generation)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply (new columns are added in place: SQLite's tables keep AUTOINCREMENT)."""
    op.create_table(
        "cache_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo_id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("branch", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=500), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("runner", sa.String(length=200), nullable=False),
        sa.Column("build_id", sa.Integer(), nullable=True),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("last_used", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["repo_id"], ["repos.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("repo_id", "generation", "branch", "key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_cache_entries_repo_used", "cache_entries", ["repo_id", "last_used"])
    op.create_table(
        "artifacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("repo_id", sa.Integer(), nullable=False),
        sa.Column("build_id", sa.Integer(), nullable=False),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=1000), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("location", sa.String(length=2000), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["build_id"], ["builds.id"]),
        sa.ForeignKeyConstraint(["repo_id"], ["repos.id"]),
        sa.ForeignKeyConstraint(["stage_id"], ["stages.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("build_id", "path"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_artifacts_repo_created", "artifacts", ["repo_id", "created"])
    op.add_column("repos", sa.Column("cache_auto", sa.Boolean(), nullable=False, server_default=sa.true()))
    op.add_column("repos", sa.Column("cache_generation", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    """Revert."""
    with op.batch_alter_table("repos", table_kwargs={"sqlite_autoincrement": True}) as batch:
        for column in ("cache_generation", "cache_auto"):
            batch.drop_column(column)
    op.drop_index("ix_artifacts_repo_created", table_name="artifacts")
    op.drop_table("artifacts")
    op.drop_index("ix_cache_entries_repo_used", table_name="cache_entries")
    op.drop_table("cache_entries")
