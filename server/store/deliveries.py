"""Webhook deliveries: one row per forge delivery id and repository."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Delivery
from server.store.rows import save


async def create_delivery(
    session: AsyncSession, repo_id: int, delivery: str, event: str, hook: dict[str, Any]
) -> Delivery | None:
    """Record a delivery; None when this delivery id was recorded before (a redelivery).

    One statement (`INSERT … ON CONFLICT DO NOTHING RETURNING id`, SQLite 3.35+ and PostgreSQL): the webhook
    route's only write, so a forge waits for one round trip rather than a read, a savepoint and a write.
    """
    row = Delivery(repo_id=repo_id, delivery=delivery, event=event, hook=hook)
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    values = row.model_dump(exclude={"id"})
    statement = (
        dialect.insert(Delivery)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["repo_id", "delivery"])
        .returning(col(Delivery.id))
    )
    row.id = (await session.exec(statement)).scalar_one_or_none()
    return row if row.id is not None else None


async def find_delivery(session: AsyncSession, repo_id: int, delivery: str) -> Delivery | None:
    """The delivery with that id."""
    result = await session.exec(
        select(Delivery).where(Delivery.repo_id == repo_id, Delivery.delivery == delivery)
    )
    return result.first()


async def find_delivery_by_id(session: AsyncSession, delivery_id: int) -> Delivery | None:
    """The delivery row with that primary key."""
    return await session.get(Delivery, delivery_id)


async def update_delivery(session: AsyncSession, delivery: Delivery) -> Delivery:
    """Save a delivery's status and build."""
    return await save(session, delivery)


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
