"""Approving or declining a build that waits, `blocked`, for someone who may build (`server.approval` says
which builds wait); signing a pipeline file for a protected repository."""

from __future__ import annotations

import time

from sqlmodel.ext.asyncio.session import AsyncSession

from pipelines.signature import signed
from pipelines.status import Status
from server.actions.errors import Conflict
from server.crypto import new_token
from server.db.models import Build, Repo
from server.progress import initial_status, skip_stage
from server.services import Services
from server.store.builds import find_build_by_id, list_stages, update_build, update_stage
from server.store.repos import find_repo_by_id, update_repo


async def approve(hangar: Services, build: Build, approver: str) -> Build:
    """Let a blocked build run: its stages become pending (or wait on their dependencies)."""
    async with hangar.transaction() as (session, changes):
        locked = await _blocked(session, build)
        stages = list(await list_stages(session, locked.id or 0))
        names = [stage.name for stage in stages]
        for stage in stages:
            if stage.status == Status.BLOCKED:
                stage.status = initial_status(stage.depends_on, names)
                await update_stage(session, stage)
                changes.stage(stage)
        locked.status, locked.error = Status.PENDING, f"approved by {approver}"
        await update_build(session, locked)
        changes.build(locked)
        changes.commit_status(locked)
        changes.wake_runners = True
    return locked


async def decline(hangar: Services, build: Build, decliner: str) -> Build:
    """End a blocked build `declined`: none of it runs."""
    async with hangar.transaction() as (session, changes):
        locked = await _blocked(session, build)
        for stage in await list_stages(session, locked.id or 0):
            if stage.status == Status.BLOCKED:
                await skip_stage(session, changes, stage)
        now = time.time()
        locked.status, locked.error = Status.DECLINED, f"declined by {decliner}"
        locked.started, locked.finished = locked.started or now, now
        await update_build(session, locked)
        changes.build(locked)
        changes.commit_status(locked)
        changes.finished_builds[locked.id or 0] = locked.repo_id
    return locked


async def _blocked(session: AsyncSession, build: Build) -> Build:
    """The build, locked, if it is blocked; else Conflict."""
    locked = await find_build_by_id(session, build.id or 0, lock=True)
    if locked is None or locked.status != Status.BLOCKED:
        status = locked.status if locked is not None else "gone"
        raise Conflict(f"build {build.number} is {status}: only a blocked build is approved or declined")
    return locked


async def sign_pipeline(hangar: Services, repo: Repo, text: str) -> str:
    """The pipeline file with a signature document under the repository's signing key (made on first use,
    kept encrypted, never shown): what `hangar sign` writes for protected repositories."""
    async with hangar.transaction() as (session, _changes):
        locked = await find_repo_by_id(session, repo.id or 0)
        if locked is None:
            raise Conflict(f"{repo.slug} was removed")
        if not locked.signing_key:
            locked.signing_key = hangar.cipher.encrypt(new_token())
            await update_repo(session, locked)
        key = hangar.cipher.decrypt(locked.signing_key)
    return signed(text, key)
