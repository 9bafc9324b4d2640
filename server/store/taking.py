"""What a runner's take reads: the stage with its Plan, the build with its repository (a statement each)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, inspect
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Build, Repo, Stage
from server.store.builds import WITHOUT_CONTEXT, held_row, stage_plan
from server.store.repos import find_repo_by_id
from server.store.rows import kept

_ROW_ID = "row_id_"
_STAGE_WITH_PLAN = select(Stage).where(col(Stage.id) == bindparam(_ROW_ID))
_BUILD_AND_REPO = (
    select(Build, Repo)
    .options(WITHOUT_CONTEXT)
    .join(Repo, col(Repo.id) == col(Build.repo_id))
    .where(col(Build.id) == bindparam(_ROW_ID))
)
"""Built once, as `server.store.builds`' statements: every take runs them."""


async def find_stage_with_plan(session: AsyncSession, stage_id: int) -> Stage | None:
    """The stage with that id, its Plan read with it (unless the session holds the stage already)."""
    held = held_row(session, Stage, stage_id)
    if held is not None:
        return held
    return kept(session, (await session.exec(_STAGE_WITH_PLAN, params={_ROW_ID: stage_id})).first())


async def plan_of(session: AsyncSession, stage: Stage) -> dict[str, Any]:
    """The stage's Plan (JSON): the one read with it, else read now."""
    if "plan" in inspect(stage).unloaded:
        return await stage_plan(session, stage.id or 0)
    return dict(stage.plan)


async def find_build_and_repo(session: AsyncSession, build_id: int) -> tuple[Build, Repo] | None:
    """The build with that id and its repository, in one statement unless the session holds the build."""
    build = held_row(session, Build, build_id)
    if build is not None:
        repo = await find_repo_by_id(session, build.repo_id)
        return None if repo is None else (build, repo)
    row = (await session.exec(_BUILD_AND_REPO, params={_ROW_ID: build_id})).first()
    if row is None:
        return None
    build, repo = row
    kept(session, build), kept(session, repo)
    return build, repo
