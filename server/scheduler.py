"""The runner-facing side of a build: offers, accepts with an optimistic lock, leases, reports, reaping."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Collection

from sqlalchemy import bindparam, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pipelines.report import StageReport, StepReport
from pipelines.runner_api import AcceptRequest, RunnerInfo
from pipelines.status import Status
from server.changes import Changes
from server.concurrency import lock_pipeline, may_start
from server.db.models import Build, Stage, Step
from server.progress import finish_stage
from server.store.builds import (
    WITHOUT_PLAN,
    create_step,
    find_build_by_id,
    find_stage,
    find_step,
    update_build,
    update_stage,
    update_step,
)
from server.store.taking import find_build_and_repo, find_stage_with_plan

OFFER_PAGE = 200
FIRST_OFFER_PAGE = 8
"""The first page is small: its first stage is nearly always the one offered, and every row read is an ORM
object made (a burst's long-polls each read the whole queue of pending stages otherwise)."""


def runner_may_take(stage: Stage, info: RunnerInfo) -> bool:
    """Same platform, and every label the stage asks for carried by the runner with the same value."""
    return _may_take(stage.os, stage.arch, stage.labels, info)


def _may_take(os: str, arch: str, labels: dict[str, str], info: RunnerInfo) -> bool:
    if os and os != info.platform.os:
        return False
    if arch and arch != info.platform.arch:
        return False
    return all(info.labels.get(key) == value for key, value in labels.items())


WAKE_EVERY_RUNNER = "ready"
"""The stages channel's message when which stages became ready is not said."""


def ready_message(wanted: list[tuple[str, str, dict[str, str]]] | None) -> str:
    """The stages channel's message: the os, arch and labels of the stages that became ready (None: not
    said, every runner wakes)."""
    return WAKE_EVERY_RUNNER if wanted is None else json.dumps(wanted)


def wakes(message: str, info: RunnerInfo) -> bool:
    """Whether a message on the stages channel may concern this runner (one it cannot read does)."""
    try:
        wanted = json.loads(message)
        return any(_may_take(os, arch, labels, info) for os, arch, labels in wanted)
    except (ValueError, TypeError, AttributeError):
        return True


OfferKey = tuple[str, str, tuple[tuple[str, str], ...]]
"""What decides which stages a runner may take: its platform's os and arch, its labels."""


def offer_key(info: RunnerInfo) -> OfferKey:
    """The runner's platform and labels, as a key."""
    return info.platform.os, info.platform.arch, tuple(sorted(info.labels.items()))


class RecentOffers:
    """Stages this process offered in the last moments: the next requester gets another one, so runners
    waiting together do not all race to accept the same stage (an offer not accepted in time is offered
    again). It also remembers when a read last found nothing more for runners alike, so that long-polls
    woken by the same message do not all read again what the first one found."""

    def __init__(self, seconds: float = 2.0) -> None:
        self.seconds = seconds
        self._until: dict[int, float] = {}
        self._exhausted: dict[OfferKey, float] = {}
        self.choosing = asyncio.Lock()
        """Held while an offer is chosen and remembered: runners woken together get different stages (else
        all but one accept in vain, and ask again)."""

    def add(self, stage_id: int) -> None:
        """Remember an offer."""
        self._until[stage_id] = time.monotonic() + self.seconds

    def read_since(self, key: OfferKey, since: float) -> bool:
        """Whether a read for runners like `key` that began after `since` found every stage they may take
        offered already (so one woken before it began has nothing new to find)."""
        return self._exhausted.get(key, -1.0) >= since

    def exhausted(self, key: OfferKey, began: float) -> None:
        """A read that began at `began` found nothing more for runners like `key` than what is offered (what
        reads for other runners found before `seconds` ago is forgotten: only long-polls woken since ask)."""
        stale = began - self.seconds
        self._exhausted = {other: at for other, at in self._exhausted.items() if at >= stale}
        self._exhausted[key] = max(began, self._exhausted.get(key, -1.0))

    def current(self) -> set[int]:
        """The stages offered lately."""
        now = time.monotonic()
        self._until = {stage: until for stage, until in self._until.items() if until > now}
        return set(self._until)


_OFFERS = (
    select(Stage)
    .options(WITHOUT_PLAN)
    .where(col(Stage.status) == Status.PENDING)
    .where(col(Stage.id).not_in(bindparam("exclude", expanding=True)))
    .where(or_(col(Stage.os) == "", col(Stage.os) == bindparam("os")))
    .where(or_(col(Stage.arch) == "", col(Stage.arch) == bindparam("arch")))
    .where(col(Stage.id) > bindparam("after"))
    .order_by(col(Stage.id))
)
_FIRST_OFFERS, _MORE_OFFERS = _OFFERS.limit(FIRST_OFFER_PAGE), _OFFERS.limit(OFFER_PAGE)
"""Built once: every runner's long-poll runs it whenever a stage may have become ready."""


async def offer_and_rest(
    session: AsyncSession, info: RunnerInfo, exclude: Collection[int] = ()
) -> tuple[Stage | None, bool]:
    """The oldest pending stage this runner may take (platform in SQL, labels page by page), and whether
    it is the last one there is (no pending stage after it: none, or it, is all the runner may take)."""
    params = {"exclude": list(exclude), "os": info.platform.os, "arch": info.platform.arch, "after": 0}
    query, size = _FIRST_OFFERS, FIRST_OFFER_PAGE
    while True:
        page = list(await session.exec(query, params=params))
        for index, stage in enumerate(page):
            if runner_may_take(stage, info) and await may_start(session, stage):
                return stage, index == len(page) - 1 and len(page) < size
        if len(page) < size:
            return None, True
        params["after"] = page[-1].id or 0
        query, size = _MORE_OFFERS, OFFER_PAGE


async def lock_stage(session: AsyncSession, stage_id: int, *, with_plan: bool = False) -> Stage | None:
    """The stage (`with_plan`: its Plan read with it, for a take), its build's row locked first
    (PostgreSQL): every state change locks in that order."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    stage = await (find_stage_with_plan if with_plan and sqlite else find_stage)(session, stage_id)
    if stage is None or sqlite:
        return stage  # SQLite: the writer's BEGIN IMMEDIATE already holds the only lock there is
    await find_build_by_id(session, stage.build_id, lock=True)
    query = select(Stage).where(Stage.id == stage_id).with_for_update()
    query = query if with_plan else query.options(WITHOUT_PLAN)
    return (await session.exec(query.execution_options(populate_existing=True))).first()


async def accept_stage(
    session: AsyncSession, changes: Changes, stage_id: int, request: AcceptRequest, runner: str, lease: float
) -> Stage | None:
    """Give the stage to `runner` if it is still pending at `version`; None when another runner was faster.

    The same accept again (same runner, version and lease id) gives the stage again: the answer to the
    first may have been lost on the way.
    """
    stage = await lock_stage(session, stage_id, with_plan=True)
    if stage is None:
        return None
    version = request.version
    same = stage.runner == runner and stage.version == version + 1 and request.lease == stage.lease
    if stage.status == Status.RUNNING and request.lease and same:
        return stage
    if stage.status != Status.PENDING or stage.version != version:
        return None
    await lock_pipeline(session, stage)
    if not await may_start(session, stage):
        return None  # its pipeline's concurrency limit is reached: another runner was faster
    now = time.time()
    stage.status, stage.runner, stage.version = Status.RUNNING, runner, version + 1
    stage.lease = request.lease or secrets.token_hex(8)
    stage.lease_expires, stage.started = now + lease, now
    await update_stage(session, stage)
    changes.stage(stage)
    found = await find_build_and_repo(session, stage.build_id)  # the repository for the assignment
    build = None if found is None else found[0]
    if build is not None and build.status == Status.PENDING:
        build.status, build.started = Status.RUNNING, now
        await update_build(session, build)
        changes.build(build)
        changes.commit_status(build)
    return stage


async def taken_under(session: AsyncSession, runner: str, lease: str) -> Stage | None:
    """The running stage `runner` took under `lease` (a take whose answer was lost), if any."""
    query = (
        select(Stage.id)
        .where(col(Stage.lease) == lease, col(Stage.runner) == runner, col(Stage.status) == Status.RUNNING)
        .limit(1)
    )
    stage_id = (await session.exec(query)).first()
    return None if stage_id is None else await lock_stage(session, stage_id, with_plan=True)


async def held_stage(session: AsyncSession, stage_id: int, runner: str, lease: str = "") -> Stage | None:
    """The stage (locked) if `runner` still holds it under `lease` (running, not reaped), else None."""
    stage = await lock_stage(session, stage_id)
    if stage is None or stage.runner != runner or stage.status != Status.RUNNING:
        return None
    if stage.lease and lease != stage.lease:
        return None  # an earlier run of the stage (since restarted), or a caller that does not say
    return stage


async def renew_lease(session: AsyncSession, stage: Stage, lease: float) -> None:
    """Extend the runner's hold on the stage."""
    stage.lease_expires = time.time() + lease
    await update_stage(session, stage)


async def report_step(session: AsyncSession, changes: Changes, stage: Stage, report: StepReport) -> Step:
    """Store a step's state as the runner reports it (a finished step never goes back)."""
    step = await find_step(session, stage.id or 0, report.number)
    created = step is None
    if step is None:
        step = Step(stage_id=stage.id or 0, number=report.number, name=report.name)
    elif Status(step.status).is_done and not report.status.is_done:
        return step
    step.status, step.exit_code, step.error = report.status, report.exit_code, report.error
    step.started, step.finished, step.detached = report.started, report.finished, report.detached
    await (create_step(session, step) if created else update_step(session, step))
    changes.step(step, stage)
    return step


async def report_stage(session: AsyncSession, changes: Changes, stage: Stage, report: StageReport) -> None:
    """Store a stage's state; a finished one ends the stage and moves the build on."""
    for step_report in report.steps:
        await report_step(session, changes, stage, step_report)
    if report.status.is_done:
        await finish_stage(session, changes, stage, report.status, report.error, report.finished)
    elif report.started and not stage.started:
        stage.started = report.started
        await update_stage(session, stage)
        changes.stage(stage)


async def reap_lost_stages(session: AsyncSession, changes: Changes, lease: float) -> list[Stage]:
    """End every running stage whose runner stopped renewing its lease, naming the runner."""
    now = time.time()
    query = select(Stage.id).where(Stage.status == Status.RUNNING, col(Stage.lease_expires) < now)
    lost: list[Stage] = []
    for stage_id in list(await session.exec(query)):
        stage = await lock_stage(session, stage_id or 0)
        if stage is None or stage.status != Status.RUNNING or (stage.lease_expires or 0) >= now:
            continue  # its runner reported or renewed meanwhile
        lost.append(stage)
        reason = f"runner {stage.runner!r} lost: it has not renewed its lease for {lease:.0f}s"
        await finish_stage(session, changes, stage, Status.ERROR, reason)
    return lost


async def extend_leases(session: AsyncSession, lease: float) -> None:
    """After a server start, give every runner a full lease to reconnect before its stages are reaped."""
    await session.exec(
        update(Stage).where(col(Stage.status) == Status.RUNNING).values(lease_expires=time.time() + lease)
    )


def stage_secrets_allowed(build: Build, secret_allows_pull_requests: bool) -> bool:
    """Pull requests get a secret only when it allows them (they may come from forks)."""
    return build.event != "pull_request" or secret_allows_pull_requests
