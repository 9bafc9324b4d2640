"""`concurrency: {limit: N}`: at most N stages of a repository's pipeline of one name run at once, across its
builds; the others wait, pending, in build order, and say why."""

from __future__ import annotations

from sqlalchemy import and_, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pipelines.status import Status
from server.db.models import Build, Repo, Stage


async def may_start(session: AsyncSession, stage: Stage) -> bool:
    """Whether the stage may start now: under its limit, counting the ones running and those waiting ahead
    of it (earlier stages of the same pipeline get the free places first, so none starves)."""
    if stage.concurrency_limit <= 0:
        return True
    running = await _count(session, stage, col(Stage.status) == Status.RUNNING)
    ahead = await _count(session, stage, col(Stage.status) == Status.PENDING, _earlier_than(stage))
    return running + ahead < stage.concurrency_limit


def _earlier_than(stage: Stage) -> object:
    """Stages of earlier builds, then earlier stages of the same build: build order, whichever build's
    configuration was read first (two builds triggered at once are compiled side by side)."""
    return or_(
        col(Stage.build_id) < stage.build_id,
        and_(col(Stage.build_id) == stage.build_id, col(Stage.id) < (stage.id or 0)),
    )


async def lock_pipeline(session: AsyncSession, stage: Stage) -> None:
    """Take the stage's repository row lock (PostgreSQL), so that two runners accepting two stages of one
    limited pipeline at once are counted one after the other (SQLite writes one at a time anyway)."""
    if stage.concurrency_limit > 0 and session.get_bind().dialect.name != "sqlite":
        await session.exec(select(Repo.id).where(Repo.id == stage.repo_id).with_for_update())


async def waiting_reason(session: AsyncSession, stage: Stage) -> str:
    """Why a pending stage waits for its pipeline's limit ("" when it does not)."""
    if stage.concurrency_limit <= 0 or stage.status != Status.PENDING or await may_start(session, stage):
        return ""
    query = (
        select(Build.number)
        .join(Stage, col(Stage.build_id) == col(Build.id))
        .where(
            col(Stage.repo_id) == stage.repo_id,
            col(Stage.name) == stage.name,
            col(Stage.status) == Status.RUNNING,
        )
        .order_by(col(Build.number))
    )
    numbers = [f"#{number}" for number in await session.exec(query)]
    limit = stage.concurrency_limit
    if not numbers:
        return f"waiting: earlier builds' {stage.name!r} come first (limit {limit})"
    where = ", ".join(numbers)
    return f"waiting: {len(numbers)} of {limit} {stage.name!r} already running in {where}"


async def _count(session: AsyncSession, stage: Stage, *conditions: object) -> int:
    query = select(func.count()).where(
        col(Stage.repo_id) == stage.repo_id,
        col(Stage.name) == stage.name,
        col(Stage.id) != stage.id,
        *conditions,  # type: ignore[arg-type]
    )
    return int((await session.exec(query)).one())
