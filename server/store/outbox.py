"""The outbox: one row per notification still to send (a commit status or an email), written in the same
transaction as the change that causes it, deleted by the job that sends it; the worker's sweep queues again
the rows whose job Redis lost."""

from __future__ import annotations

import time

from sqlalchemy import delete, exists, or_
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import Exists
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Outbox

STATUS = "status"
EMAIL = "email"
STAGE_STATUS = "stage:"
"""Prefix of the kind of a workflow's commit status (`stage:3`: stage number 3 of the build)."""


def stage_status_kind(stage_number: int) -> str:
    """The outbox kind of a stage's commit status."""
    return f"{STAGE_STATUS}{stage_number}"


def is_status(kind: str) -> bool:
    """Whether an outbox kind is a commit status (the build's or a stage's)."""
    return kind == STATUS or kind.startswith(STAGE_STATUS)


async def create_outbox(session: AsyncSession, rows: list[Outbox]) -> list[Outbox]:
    """Record notifications to send (their ids are set on return)."""
    session.add_all(rows)
    await session.flush()
    return rows


async def find_outbox(session: AsyncSession, outbox_id: int) -> Outbox | None:
    """The outbox row with that id (None once its notification was done)."""
    return await session.get(Outbox, outbox_id)


async def delete_outbox(session: AsyncSession, outbox_ids: list[int]) -> None:
    """Forget notifications that were sent, not needed, or failed for good."""
    if outbox_ids:
        await session.exec(delete(Outbox).where(col(Outbox.id).in_(outbox_ids)))


async def delete_statuses_through(
    session: AsyncSession, build_id: int, sequence: int, kind: str = STATUS
) -> None:
    """Forget a build's commit statuses of `kind` up to `sequence`: once it is sent, the older ones are
    obsolete."""
    await session.exec(
        delete(Outbox).where(
            col(Outbox.build_id) == build_id, col(Outbox.kind) == kind, col(Outbox.sequence) <= sequence
        )
    )


async def list_stale_outbox(session: AsyncSession, older_than: float) -> list[Outbox]:
    """Notifications recorded more than `older_than` seconds ago and still not done, oldest first; of a
    build's commit statuses, only the newest."""
    query = (
        select(Outbox)
        .where(col(Outbox.created) < time.time() - older_than, ~_newer_status_exists())
        .order_by(col(Outbox.id))
    )
    return list(await session.exec(query))


async def delete_obsolete_statuses(session: AsyncSession, older_than: float) -> None:
    """Forget the commit statuses recorded more than `older_than` seconds ago that a newer status of the
    same build replaces."""
    await session.exec(
        delete(Outbox).where(col(Outbox.created) < time.time() - older_than, _newer_status_exists())
    )


def _newer_status_exists() -> Exists:
    newer = aliased(Outbox)
    return exists().where(
        or_(col(Outbox.kind) == STATUS, col(Outbox.kind).startswith(STAGE_STATUS)),
        col(newer.kind) == Outbox.kind,
        col(newer.build_id) == Outbox.build_id,
        col(newer.sequence) > Outbox.sequence,
    )
