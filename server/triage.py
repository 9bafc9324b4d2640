"""Failure triage on stored logs: a failed step's lines that are new since the same step of its branch's last
green build (`pipelines.testresults.triage` compares them)."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pipelines.status import Status
from pipelines.testresults.triage import new_lines
from server.db.models import Build, Stage, Step
from server.store.logs import last_lines, read_lines

MAX_LINES = 20_000
"""Lines of each log compared at most: the failing step's last ones, and the green one's last ones."""


async def last_green(session: AsyncSession, build: Build) -> Build | None:
    """The branch's last successful build before this one."""
    query = (
        select(Build)
        .where(
            Build.repo_id == build.repo_id,
            Build.branch == build.branch,
            Build.number < build.number,
            Build.status == Status.SUCCESS.value,
        )
        .order_by(col(Build.number).desc())
        .limit(1)
    )
    return (await session.exec(query)).first()


async def green_step(session: AsyncSession, green: Build, stage: Stage, step: Step) -> Step | None:
    """The same step (by stage and step name) in the green build, if it succeeded there."""
    query = (
        select(Step)
        .join(Stage, col(Stage.id) == col(Step.stage_id))
        .where(Stage.build_id == green.id, Stage.name == stage.name, Step.name == step.name)
    )
    found = (await session.exec(query)).first()
    return found if found is not None and found.status == Status.SUCCESS.value else None


async def new_since_green(
    session: AsyncSession, build: Build, stage: Stage, step: Step
) -> tuple[int, list[tuple[int, str]]] | None:
    """The green build's number and the step's lines new since it; None without such a build or step."""
    green = await last_green(session, build)
    if green is None:
        return None
    before = await green_step(session, green, stage, step)
    if before is None:
        return None
    baseline = await last_lines(session, before.id or 0, MAX_LINES)
    start = max(0, step.log_lines - MAX_LINES)
    stored = await read_lines(session, step.id or 0, start)
    current = [(position, text) for position, _seconds, text in stored]
    return green.number, new_lines(current, baseline)
