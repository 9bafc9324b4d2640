"""Webhook deliveries recorded in groups: the webhooks that arrive while one group is being written wait and
are written together, in one transaction and one statement, so a burst costs a commit per group, not one per
webhook (SQLite writes one transaction at a time per process; PostgreSQL pays a round trip per commit).

Each webhook is answered only after the commit that holds its row: a 202 still means "recorded". The group's
trigger jobs are then queued together too (one Redis round trip), for the new deliveries and for redeliveries
whose first trigger never made a build.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError
from sqlmodel.ext.asyncio.session import AsyncSession

from server.changes import Changes
from server.store.deliveries import DeliveryRow, create_deliveries

MAX_GROUP = 200
"""Webhooks written by one statement at most."""

_log = logging.getLogger("hangar.ingest")
Transaction = Callable[[], AbstractAsyncContextManager[tuple[AsyncSession, Changes]]]
QueueTriggers = Callable[[list[int]], Awaitable[None]]


@dataclass(frozen=True)
class Recorded:
    """A delivery's row: its id, whether this webhook made it (False: a redelivery), its build if any, and
    why its trigger could not be queued ('' when it was, or needed none)."""

    id: int
    new: bool
    build_id: int | None = None
    queue_error: str = ""


@dataclass
class _Waiting:
    row: DeliveryRow
    answer: asyncio.Future[Recorded] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class DeliveryRecorder:
    """Records deliveries for the webhook route, a group at a time."""

    def __init__(self, transaction: Transaction, queue_triggers: QueueTriggers | None = None) -> None:
        self._transaction = transaction
        self._queue_triggers = queue_triggers
        self._waiting: list[_Waiting] = []
        self._arrived = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None

    async def record(self, repo_id: int, delivery: str, event: str, hook: dict[str, Any]) -> Recorded:
        """Record the delivery (once per repository and delivery id) and return its row once committed."""
        waiting = _Waiting(DeliveryRow(repo_id, delivery, event, hook))
        self._waiting.append(waiting)
        self._arrived.set()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_groups())
        return await asyncio.shield(waiting.answer)

    async def close(self) -> None:
        """Stop writing (what waits is failed: its webhooks get an error, and forges send them again)."""
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        for waiting in self._waiting:
            if not waiting.answer.done():
                waiting.answer.set_exception(RuntimeError("the server is stopping"))
        self._waiting.clear()

    async def _write_groups(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting[:MAX_GROUP], self._waiting[MAX_GROUP:]
            try:
                await self._write(group)
            except Exception:  # one bad row must not fail the others: each is written on its own
                _log.warning(
                    "a group of %d deliveries failed; writing them one by one", len(group), exc_info=True
                )
                for waiting in group:
                    await self._write_one(waiting)

    async def _write(self, group: list[_Waiting]) -> None:
        async with self._transaction() as (session, _changes):
            found = await create_deliveries(session, [waiting.row for waiting in group])
        queue_error = await self._queue([row for row in found.values() if row[1] or row[2] is None])
        answered: set[tuple[int, str]] = set()
        for waiting in group:
            identity = (waiting.row.repo_id, waiting.row.delivery)
            row_id, new, build_id = found[identity]
            recorded = Recorded(row_id, new and identity not in answered, build_id, queue_error)
            waiting.answer.set_result(recorded)
            answered.add(identity)

    async def _queue(self, rows: list[tuple[int, bool, int | None]]) -> str:
        """Queue the triggers of these rows (committed); '' or why Redis could not take them."""
        if self._queue_triggers is None or not rows:
            return ""
        try:
            await self._queue_triggers(sorted({row_id for row_id, _new, _build in rows}))
        except (RedisError, OSError) as exc:  # recorded: a redelivery, or the worker's sweep, queues it later
            return str(exc) or type(exc).__name__
        return ""

    async def _write_one(self, waiting: _Waiting) -> None:
        try:
            await self._write([waiting])
        except Exception as exc:
            waiting.answer.set_exception(exc)
