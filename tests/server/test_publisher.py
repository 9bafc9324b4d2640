"""Live events leave on a Redis connection of their own that Redis does not answer on: in order, and again
after that connection is cut."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from server.broker import Broker
from server.publisher import NAME


async def _received(queue: asyncio.Queue[str], count: int) -> list[str]:
    return [await asyncio.wait_for(queue.get(), 5) for _ in range(count)]


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A client of the test Redis."""
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def broker(redis: Redis) -> AsyncIterator[Broker]:
    """A started broker on that Redis."""
    started = Broker(redis)
    await started.start()
    yield started
    await started.close()


@pytest.fixture
def channel() -> str:
    """A channel nobody else uses."""
    return f"test-{uuid.uuid4().hex}"


async def test_messages_arrive_in_the_order_they_were_published(
    redis: Redis, broker: Broker, channel: str
) -> None:
    async with broker.listen(channel) as queue:
        for first in range(0, 300, 30):
            await broker.publish_many([(channel, str(each)) for each in range(first, first + 30)])
        await broker.publish(channel, "last")
        assert await _received(queue, 301) == [*map(str, range(300)), "last"]
    clients = await redis.client_list()
    assert sum(client.get("name") == NAME for client in clients) >= 1


async def test_publishing_goes_on_once_redis_cut_the_connection(
    redis: Redis, broker: Broker, channel: str
) -> None:
    async with broker.listen(channel) as queue:
        await broker.publish(channel, "before")
        assert await _received(queue, 1) == ["before"]
        clients = await redis.client_list()
        ours = [client["id"] for client in clients if client.get("name") == NAME]
        for client_id in ours:
            await redis.client_kill_filter(_id=str(client_id))
        arrived: list[str] = []
        for attempt in range(50):  # the first write after the cut may still be taken by the dead socket
            await broker.publish(channel, f"after {attempt}")
            try:
                arrived.append(await asyncio.wait_for(queue.get(), 0.1))
                break
            except TimeoutError:
                continue
        assert arrived and arrived[0].startswith("after")
