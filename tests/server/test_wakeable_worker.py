"""The worker through a Redis outage: a job it could not start because Redis went away gives its slot back,
even when another job ends meanwhile (else, after `max_jobs` such failures, the worker takes no more jobs)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis, RedisSettings
from redis.exceptions import RedisError

from server.keys import QUEUE_NAME
from server.services import Services
from server.wakeable_worker import WakeableWorker


@pytest.fixture
async def dying_redis() -> AsyncIterator[tuple[int, asyncio.Event]]:
    """A Redis that dies in the middle of every command: it reads the command, sets the event (the moment
    of the outage), waits a little, then drops the connection unanswered. (Its port, the event.)"""
    outage = asyncio.Event()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        outage.set()
        await asyncio.sleep(0.05)  # the other job's end is handled before the connection drops
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, outage
    finally:
        server.close()
        await server.wait_closed()


async def _job(ctx: dict[str, object]) -> None:
    """Never run: the worker fails before it starts."""


async def test_a_job_not_started_for_a_redis_failure_gives_its_slot_back_while_another_ends(
    hangar: Services, dying_redis: tuple[int, asyncio.Event]
) -> None:
    port, outage = dying_redis
    worker = WakeableWorker(
        functions=[_job], redis_settings=RedisSettings(port=port), queue_name=QUEUE_NAME, max_jobs=2,
        handle_signals=False, ctx={"hangar": hangar},
    )  # fmt: skip
    pool = ArqRedis(host="127.0.0.1", port=port, retry_on_error=None)
    worker._pool = pool
    try:
        # a job already running (as arq starts one: a slot taken, the counter up) that ends during the outage
        await worker.sem.acquire()
        worker.job_counter += 1
        running = asyncio.create_task(outage.wait())
        running.add_done_callback(lambda _: worker._release_sem_dec_counter_on_complete())
        worker.tasks["running"] = running

        with pytest.raises((RedisError, OSError)):
            await worker.start_jobs([b"queued"])
        await running

        assert worker.job_counter == 0, "no job runs: none counted"
        assert worker.sem._value == worker.max_jobs + 1, "every slot free again"
    finally:
        await pool.aclose()
