"""builds: a column per field of a build's cause (pipelines/cause.py); a delivery's hook: {forge, repo, cause}

`builds.title` becomes `pull_request_title` and `builds.link` (the commit's page) `commit_link`, the names
the cause gives them everywhere; `deploy_to`, `cron` and `parameters` are new. A recorded delivery's hook
was one flat object; it becomes the forge, the repository and the cause, as the parser now records it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 10:00:00
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

RENAMED = {"title": "pull_request_title", "link": "commit_link"}
ADDED: dict[str, tuple[type[sa.types.TypeEngine[Any]], str]] = {
    "deploy_to": (sa.String, ""),
    "cron": (sa.String, ""),
    "parameters": (sa.JSON, "{}"),
}
# A hook's repository as the parser records it; the flat hook held these beside the forge and the cause.
REPOSITORY: dict[str, Any] = {
    "owner": "", "name": "", "clone_url": "", "link": "", "private": False, "default_branch": "",
}  # fmt: skip
HOOK_RENAMED = {"title": "pull_request_title"}
BATCH = 500

Hook = dict[str, Any]


def upgrade() -> None:
    """Apply."""
    for old, new in RENAMED.items():
        op.alter_column("builds", old, new_column_name=new)
    for name, (sql_type, default) in ADDED.items():
        op.add_column("builds", sa.Column(name, sql_type(), nullable=False, server_default=default))
    _rewrite_hooks(nested_hook)


def downgrade() -> None:
    """Revert."""
    _rewrite_hooks(flat_hook)
    for name in ADDED:
        op.drop_column("builds", name)  # SQLite drops a column in place (since 3.35)
    for old, new in RENAMED.items():
        op.alter_column("builds", new, new_column_name=old)


def nested_hook(hook: Hook) -> Hook:
    """{forge, repo, cause} from a flat hook (unchanged if it is nested already)."""
    if "cause" in hook:
        return hook
    repo = {key: hook.get(key, default) for key, default in REPOSITORY.items()}
    cause = {HOOK_RENAMED.get(key, key): value for key, value in hook.items() if key not in {"forge", *repo}}
    return {"forge": hook.get("forge", ""), "repo": repo, "cause": cause}


def flat_hook(hook: Hook) -> Hook:
    """The flat hook of before from {forge, repo, cause} (unchanged if it is flat already)."""
    if "cause" not in hook:
        return hook
    former = {new: old for old, new in HOOK_RENAMED.items()}
    cause = {former.get(key, key): value for key, value in hook["cause"].items()}
    for name in ADDED:
        cause.pop(name, None)
    repo: Hook = hook.get("repo", {})
    return {"forge": hook.get("forge", "")} | repo | cause


def _rewrite_hooks(rewrite: Callable[[Hook], Hook]) -> None:
    deliveries = sa.table("deliveries", sa.column("id", sa.Integer()), sa.column("hook", sa.JSON()))
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(deliveries.c.id, deliveries.c.hook)
            .where(deliveries.c.id > last)
            .order_by(deliveries.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        rewritten = [(row_id, hook, rewrite(hook)) for row_id, hook in rows if isinstance(hook, dict)]
        changed = [{"row_id": row_id, "new_hook": new} for row_id, old, new in rewritten if new != old]
        if changed:
            connection.execute(
                deliveries.update()
                .where(deliveries.c.id == sa.bindparam("row_id"))
                .values(hook=sa.bindparam("new_hook", type_=sa.JSON())),
                changed,
            )
        last = rows[-1][0]
