"""signing in with a forge: users' forge accounts and their OAuth tokens; a repository's forge id, the user
who switched it on, and the webhook Hangar made

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply (new columns are added in place: SQLite's tables keep AUTOINCREMENT)."""
    op.create_table(
        "forge_accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("forge", sa.String(length=20), nullable=False),
        sa.Column("forge_user_id", sa.String(length=100), nullable=False),
        sa.Column("login", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("avatar", sa.String(), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        sa.Column("expires", sa.Float(), nullable=True),
        sa.Column("refresh_failed", sa.Text(), nullable=False),
        sa.Column("updated", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id"),
        sa.UniqueConstraint("forge", "forge_user_id"),
    )
    op.add_column("repos", sa.Column("forge_id", sa.String(length=100), nullable=False, server_default=""))
    op.add_column("repos", sa.Column("owner_id", sa.Integer(), nullable=True))  # users.id: SQLite adds no FK
    op.add_column("repos", sa.Column("hook_id", sa.String(length=100), nullable=False, server_default=""))
    op.create_index("ix_repos_forge_id", "repos", ["forge_id"])


def downgrade() -> None:
    """Revert."""
    op.drop_index("ix_repos_forge_id", table_name="repos")
    with op.batch_alter_table("repos", table_kwargs={"sqlite_autoincrement": True}) as batch:
        for column in ("hook_id", "owner_id", "forge_id"):
            batch.drop_column(column)
    op.drop_table("forge_accounts")
