"""ids never reused: on SQLite, the tables whose ids name things outside the database become AUTOINCREMENT

SQLite hands out a deleted row's id again (max(rowid) + 1) unless the table is AUTOINCREMENT; job ids, Redis
keys and live-event channels are built from these ids, and a job queued under a recycled id was silently
refused while the earlier job's result was kept (issue 13). PostgreSQL's sequences never reuse ids: nothing
changes there.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = ("builds", "stages", "steps", "deliveries", "outbox")


def upgrade() -> None:
    """Apply (SQLite: each table is copied into one created with AUTOINCREMENT)."""
    _recreate(autoincrement=True)


def downgrade() -> None:
    """Revert."""
    _recreate(autoincrement=False)


def _recreate(*, autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass
