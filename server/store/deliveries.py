"""Webhook deliveries: one row per forge delivery id and repository."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, NamedTuple

from sqlalchemy import bindparam, tuple_
from sqlalchemy import update as core_update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Delivery, Repo
from server.store.rows import kept


@dataclass(frozen=True)
class DeliveryRow:
    """A delivery to record."""

    repo_id: int
    delivery: str
    event: str
    hook: dict[str, Any]


async def create_delivery(
    session: AsyncSession, repo_id: int, delivery: str, event: str, hook: dict[str, Any]
) -> Delivery | None:
    """Record a delivery; None when this delivery id was recorded before (a redelivery)."""
    found = await create_deliveries(session, [DeliveryRow(repo_id, delivery, event, hook)])
    row_id, new, _ = found[(repo_id, delivery)]
    if not new:
        return None
    return Delivery(id=row_id, repo_id=repo_id, delivery=delivery, event=event, hook=hook)


async def create_deliveries(
    session: AsyncSession, rows: list[DeliveryRow]
) -> dict[tuple[int, str], tuple[int, bool, int | None]]:
    """Record deliveries in one statement (`INSERT … ON CONFLICT DO NOTHING RETURNING`, SQLite 3.35+ and
    PostgreSQL); per (repository, delivery id): the row's id, whether it is new, and its build (earlier rows).
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    received = time.time()
    values = [
        {"repo_id": r.repo_id, "delivery": r.delivery, "event": r.event, "hook": r.hook, "status": "queued",
         "received": received}
        for r in rows
    ]  # fmt: skip
    statement = (
        dialect.insert(Delivery)
        .values(values)
        .on_conflict_do_nothing(index_elements=["repo_id", "delivery"])
        .returning(col(Delivery.id), col(Delivery.repo_id), col(Delivery.delivery))
    )
    found: dict[tuple[int, str], tuple[int, bool, int | None]] = {
        (repo_id, delivery): (row_id, True, None)
        for row_id, repo_id, delivery in await session.exec(statement)
    }
    earlier = {(r.repo_id, r.delivery) for r in rows} - found.keys()
    if earlier:
        query = select(Delivery.id, Delivery.repo_id, Delivery.delivery, Delivery.build_id).where(
            tuple_(col(Delivery.repo_id), col(Delivery.delivery)).in_(list(earlier))
        )
        for row_id, repo_id, delivery, build_id in await session.exec(query):
            found[(repo_id, delivery)] = (row_id or 0, False, build_id)
    return found


async def find_delivery(session: AsyncSession, repo_id: int, delivery: str) -> Delivery | None:
    """The delivery with that id."""
    result = await session.exec(
        select(Delivery).where(Delivery.repo_id == repo_id, Delivery.delivery == delivery)
    )
    return result.first()


class DeliveryToBuild(NamedTuple):
    """What the trigger job reads of a recorded delivery: its repository too."""

    repo: Repo
    build_id: int | None
    hook: dict[str, Any]


_DELIVERIES = SQLModel.metadata.tables[Delivery.__tablename__]
_TO_BUILD = (
    select(Repo, _DELIVERIES.c.build_id, _DELIVERIES.c.hook)
    .join(_DELIVERIES, _DELIVERIES.c.repo_id == col(Repo.id))
    .where(_DELIVERIES.c.id == bindparam("delivery_id"))
)
_MARK_BUILT = (
    core_update(_DELIVERIES)
    .where(_DELIVERIES.c.id == bindparam("delivery_id"))
    .values(status="built", build_id=bindparam("build_id"))
)
"""Built once, run as Core statements (no ORM row: the trigger job reads and marks one delivery per build)."""


async def delivery_to_build(session: AsyncSession, delivery_id: int) -> DeliveryToBuild | None:
    """The repository, build (None: not built yet) and hook of the delivery with that primary key, in one
    statement (None too when its repository is gone)."""
    row = (await session.exec(_TO_BUILD, params={"delivery_id": delivery_id})).first()
    if row is None:
        return None
    repo, build_id, hook = row
    kept(session, repo)  # the trigger's other steps find it held
    return DeliveryToBuild(repo, build_id, hook)


async def mark_built(session: AsyncSession, delivery_id: int, build_id: int) -> None:
    """Record that the delivery became build `build_id`."""
    await session.exec(_MARK_BUILT, params={"delivery_id": delivery_id, "build_id": build_id})


async def stale_deliveries(session: AsyncSession, older_than: float) -> list[int]:
    """Ids of deliveries recorded more than `older_than` seconds ago that have no build yet."""
    query = select(Delivery.id).where(
        Delivery.status == "queued",
        col(Delivery.build_id).is_(None),
        Delivery.received < time.time() - older_than,
    )
    return [delivery_id for delivery_id in await session.exec(query) if delivery_id is not None]


async def last_delivery(session: AsyncSession, repo_id: int) -> float | None:
    """When the repository's last webhook delivery was received (None: never)."""
    query = (
        select(Delivery.received).where(Delivery.repo_id == repo_id).order_by(col(Delivery.received).desc())
    )
    return (await session.exec(query.limit(1))).first()
