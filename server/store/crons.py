"""Cron schedules: per-repository verbs, the due ones, and claiming one so that it fires once."""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Cron


async def list_crons(session: AsyncSession, repo_id: int) -> Sequence[Cron]:
    """A repository's crons, by name."""
    result = await session.exec(select(Cron).where(Cron.repo_id == repo_id).order_by(col(Cron.name)))
    return result.all()


async def find_cron(session: AsyncSession, repo_id: int, name: str) -> Cron | None:
    """The cron `name` of a repository."""
    result = await session.exec(select(Cron).where(Cron.repo_id == repo_id, Cron.name == name))
    return result.first()


async def create_cron(session: AsyncSession, cron: Cron) -> Cron:
    """Store a new cron."""
    session.add(cron)
    await session.flush()
    return cron


async def update_cron(session: AsyncSession, cron: Cron) -> Cron:
    """Save a cron's changes."""
    cron.updated = time.time()
    session.add(cron)
    await session.flush()
    return cron


async def delete_cron(session: AsyncSession, cron: Cron) -> None:
    """Remove a cron."""
    await session.delete(cron)


async def list_due_crons(session: AsyncSession, now: float) -> Sequence[Cron]:
    """The enabled crons due at `now`, the most overdue first."""
    query = (
        select(Cron)
        .where(col(Cron.disabled).is_(False), col(Cron.next_run) <= now)
        .order_by(col(Cron.next_run), col(Cron.id))
    )
    return (await session.exec(query)).all()


async def claim_cron(session: AsyncSession, cron: Cron, fired_at: float, next_run: float) -> bool:
    """Move a due cron on to `next_run` unless another worker did first: True when this one claimed it (and
    so builds it). Compare-and-set on the due time it was read with, so replicas never build it twice."""
    result = await session.exec(
        update(Cron)
        .where(col(Cron.id) == cron.id, col(Cron.next_run) == cron.next_run)
        .values(next_run=next_run, prev_run=fired_at)
    )
    claimed = bool(result.rowcount == 1)
    if claimed:
        cron.next_run, cron.prev_run = next_run, fired_at
    return claimed
