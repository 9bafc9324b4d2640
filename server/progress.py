"""How a build moves on: ended stages release those waiting on them; the build takes its outcome."""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from pipelines.plan import RunPolicy
from pipelines.stage_rules import stage_should_run
from pipelines.status import Status
from server.changes import Changes
from server.db.models import Build, LogChunk, Stage, Step
from server.store.builds import (
    find_build_by_id,
    list_stages,
    list_steps,
    stage_steps,
    update_build,
    update_stage,
    update_step,
)
from server.store.tests import forget_tests


def _number(step: Step) -> int:
    return step.number


def build_outcome(stages: Sequence[Stage], cancelled: bool) -> Status:
    """A finished build's status from its stages: killed if cancelled, else the worst stage outcome."""
    statuses = {Status(stage.status) for stage in stages}
    if cancelled:
        return Status.KILLED
    for worst in (Status.ERROR, Status.FAILURE, Status.KILLED):
        if worst in statuses:
            return worst
    return Status.SUCCESS


def initial_status(stage_depends_on: Sequence[str], names: Sequence[str]) -> Status:
    """A new stage is pending, or waiting when it depends on another stage of the same build."""
    return Status.WAITING if any(name in names for name in stage_depends_on) else Status.PENDING


async def finish_stage(
    session: AsyncSession,
    changes: Changes,
    stage: Stage,
    status: Status,
    error: str = "",
    finished: float | None = None,
) -> None:
    """End a stage (its unfinished steps end too), then release what waited on it and settle the build."""
    now = time.time()
    stage.status, stage.error = status, error or stage.error
    stage.finished, stage.lease_expires = finished or now, None
    await update_stage(session, stage)
    changes.stage(stage)
    if stage.concurrency_limit:
        changes.wake_runners = True  # a stage of the same pipeline waiting for this one may start now
    for step in sorted((await stage_steps(session, stage.id or 0)).values(), key=_number):
        if not Status(step.status).is_done:
            running = step.status == Status.RUNNING
            step.status = (
                (status if status in (Status.ERROR, Status.KILLED) else Status.SKIPPED)
                if running
                else Status.SKIPPED
            )
            step.error = step.error or (error if running else "")
            step.finished = now if running else step.finished
            await update_step(session, step)
            changes.step(step, stage)
    build = await find_build_by_id(session, stage.build_id, lock=True)
    if build is not None:
        await advance_build(session, changes, build)


async def advance_build(session: AsyncSession, changes: Changes, build: Build) -> None:
    """Start or skip the stages whose dependencies have all ended; finish the build once every stage has."""
    stages = list(await list_stages(session, build.id or 0))
    by_name = {stage.name: stage for stage in stages}
    moved = True
    while moved:
        moved = False
        for stage in stages:
            if stage.status != Status.WAITING:
                continue
            upstream = [by_name[name] for name in stage.depends_on if name in by_name]
            if not all(Status(dep.status).is_done for dep in upstream):
                continue
            runs = not build.cancelled and stage_should_run(
                RunPolicy(stage.run_policy), [Status(dep.status) for dep in upstream]
            )
            if runs:
                stage.status = Status.PENDING
                changes.stage_ready(stage)
                await update_stage(session, stage)
                changes.stage(stage)
            else:
                await skip_stage(session, changes, stage)
            moved = True
    # A build cancelled before its stages were stored (still compiling) ends at once, with none.
    ended = (stages or build.cancelled) and all(Status(stage.status).is_done for stage in stages)
    if ended and build.finished is None:
        build.status = build_outcome(stages, build.cancelled)
        build.finished = time.time()
        build.started = build.started or build.finished
        await update_build(session, build)
        changes.build(build)
        changes.commit_status(build)
        changes.finished_builds[build.id or 0] = build.repo_id


async def skip_stage(session: AsyncSession, changes: Changes, stage: Stage) -> None:
    """A stage that will not run, and its steps."""
    stage.status = Status.SKIPPED
    await update_stage(session, stage)
    changes.stage(stage)
    for step in sorted((await stage_steps(session, stage.id or 0)).values(), key=_number):
        step.status = Status.SKIPPED
        await update_step(session, step)
        changes.step(step, stage)


async def cancel_build(session: AsyncSession, changes: Changes, build: Build) -> None:
    """Cancel: waiting stages are skipped, running ones are told to stop; the build ends `killed`."""
    if build.finished is not None:
        return
    build.cancelled = True
    await update_build(session, build)
    for stage in await list_stages(session, build.id or 0):
        if stage.status in (Status.PENDING, Status.WAITING, Status.BLOCKED):
            await skip_stage(session, changes, stage)
        elif stage.status == Status.RUNNING:
            stage.cancel_requested = True
            await update_stage(session, stage)
            changes.cancelled_stages.add(stage.id or 0)
    await advance_build(session, changes, build)


async def restart_stages(session: AsyncSession, changes: Changes, build: Build, number: int) -> list[Stage]:
    """Run stage `number` again, and every stage depending on it, in the same build; the stages reset."""
    stages = list(await list_stages(session, build.id or 0))
    names = {stage.name for stage in stages if stage.number == number}
    grew = True
    while grew:
        more = {stage.name for stage in stages if names & set(stage.depends_on)} - names
        names |= more
        grew = bool(more)
    reset = [stage for stage in stages if stage.name in names]
    steps = await list_steps(session, [stage.id or 0 for stage in reset])
    await forget_tests(session, [step.id or 0 for step in steps])
    for step in steps:
        await session.exec(delete(LogChunk).where(col(LogChunk.step_id) == step.id))
        step.status, step.exit_code, step.error = Status.PENDING, None, ""
        step.started = step.finished = None
        step.log_lines = 0
        await update_step(session, step)
    all_names = [stage.name for stage in stages]
    for stage in reset:
        waits = [name for name in stage.depends_on if name in names]
        stage.status = initial_status(waits, all_names)
        stage.error, stage.runner, stage.lease, stage.cancel_requested = "", "", "", False
        stage.started = stage.finished = stage.lease_expires = None
        stage.version += 1
        await update_stage(session, stage)
        changes.stage(stage)
    build.status, build.finished, build.cancelled, build.error = Status.RUNNING, None, False, ""
    await update_build(session, build)
    changes.build(build)
    changes.commit_status(build)
    changes.wake_runners = True
    return reset


async def mark_build_error(session: AsyncSession, changes: Changes, build: Build, error: str) -> None:
    """A build that cannot run at all (a configuration error): `error`, with the reason."""
    if build.finished is not None:
        return  # cancelled meanwhile: it stays killed
    build.status, build.error = Status.ERROR, error
    build.started = build.started or time.time()
    build.finished = time.time()
    await update_build(session, build)
    changes.build(build)
    changes.commit_status(build)
    changes.finished_builds[build.id or 0] = build.repo_id
