"""Cron schedules: add, change, remove, run now; and the worker's tick that builds every cron now due, once,
whatever the number of workers, and once for all the times it missed while no worker ran."""

from __future__ import annotations

import logging
import time

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from server.actions.errors import ActionError, Conflict, NotFound
from server.actions.starts import start_cron
from server.db.models import Build, Cron, Repo
from server.schedules import CronExpressionError, check_expression, next_due
from server.services import Services
from server.store.crons import claim_cron, create_cron, delete_cron, find_cron, list_due_crons, update_cron
from server.store.repos import find_repo_by_id

CRON_NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
_log = logging.getLogger("hangar.crons")


class NewCron(BaseModel):
    """A cron to add."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(max_length=200, pattern=CRON_NAME)
    expr: str = Field(max_length=200)
    """Five fields, Drone's six with seconds first, or @hourly, @daily, @weekly, @monthly, @yearly."""
    branch: str = Field(default="", max_length=200)
    """The branch whose head it builds ("": the repository's default branch)."""
    disabled: bool = False

    @field_validator("expr")
    @classmethod
    def _valid(cls, expr: str) -> str:
        return check_expression(expr)


class CronChanges(BaseModel):
    """New values for a cron (each optional)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    expr: str | None = Field(default=None, max_length=200)
    branch: str | None = Field(default=None, max_length=200)
    disabled: bool | None = None

    @field_validator("expr")
    @classmethod
    def _valid(cls, expr: str | None) -> str | None:
        return None if expr is None else check_expression(expr)


async def add_cron(hangar: Services, repo: Repo, body: NewCron) -> Cron:
    """Store a new cron of the repository, due next when its expression says; 409 if the name is taken."""
    cron = Cron(repo_id=repo.id or 0, name=body.name, expr=body.expr, branch=body.branch)
    cron.disabled, cron.next_run = body.disabled, next_due(body.expr, time.time())
    try:
        async with hangar.transaction() as (session, _changes):
            return await create_cron(session, cron)
    except IntegrityError:
        raise Conflict(f"{repo.slug} has a cron named {body.name!r} already") from None


async def change_cron(hangar: Services, repo: Repo, name: str, body: CronChanges) -> Cron:
    """Change a cron's expression, branch or disabled flag (a new expression is due from now)."""
    async with hangar.transaction() as (session, _changes):
        cron = await _find(session, repo, name)
        if body.expr is not None and body.expr != cron.expr:
            cron.expr, cron.next_run = body.expr, next_due(body.expr, time.time())
        if body.branch is not None:
            cron.branch = body.branch
        if body.disabled is not None:
            if cron.disabled and not body.disabled:
                cron.next_run = next_due(cron.expr, time.time())  # not the times missed while disabled
            cron.disabled = body.disabled
        return await update_cron(session, cron)


async def remove_cron(hangar: Services, repo: Repo, name: str) -> None:
    """Delete a cron."""
    async with hangar.transaction() as (session, _changes):
        await delete_cron(session, await _find(session, repo, name))


async def run_cron(hangar: Services, repo: Repo, name: str) -> Build:
    """Build the cron now, whatever its schedule (its next due time stays)."""
    async with hangar.reading() as session:
        cron = await _find(session, repo, name)
    build = await start_cron(hangar, repo, cron)
    assert build is not None  # no claim: it always builds
    return build


async def fire_due_crons(hangar: Services, now: float | None = None) -> list[Build]:
    """Build every enabled cron that is due: each claimed (moved on to its next time after now, so another
    worker does not build it too, and the times it missed are not built one by one) in the transaction that
    makes its build, so a worker that dies in between leaves the due time to the next tick."""
    now = time.time() if now is None else now
    async with hangar.reading() as session:
        due = list(await list_due_crons(session, now))
    built: list[Build] = []
    for cron in due:
        try:
            following = next_due(cron.expr, now)
        except CronExpressionError as exc:  # stored by an older Hangar that took it
            _log.error("cron %s of repository %s disabled: %s", cron.name, cron.repo_id, exc)
            async with hangar.transaction() as (session, _changes):
                cron.disabled = True
                await update_cron(session, cron)
            continue
        async with hangar.reading() as session:
            repo = await find_repo_by_id(session, cron.repo_id)
        if repo is None:
            continue

        async def claim(session: AsyncSession, cron: Cron = cron, following: float = following) -> bool:
            return await claim_cron(session, cron, now, following)

        try:
            build = await start_cron(hangar, repo, cron, claim=claim)
        except ActionError as exc:  # the branch cannot be read: this due time is spent all the same
            _log.warning("cron %s of %s: %s", cron.name, repo.slug, exc)
            async with hangar.transaction() as (session, _changes):
                await claim(session)
            continue
        if build is not None:
            built.append(build)
    return built


async def _find(session: AsyncSession, repo: Repo, name: str) -> Cron:
    cron = await find_cron(session, repo.id or 0, name)
    if cron is None:
        raise NotFound(f"{repo.slug} has no cron {name!r}")
    return cron
