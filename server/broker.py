"""Live events over Redis pub/sub: one subscription per process, fanned out to in-process listeners.

Channels: `hangar:stages` (a stage became ready: wake the runners' long-polls), `hangar:cancel:<stage id>`,
`hangar:build:<build id>` (build, stage and step states), `hangar:log:<step id>` (new log lines), and
`hangar:events` (every build state change, for dashboards). Messages are hints: whoever wakes up reads the
database, which stays the source of truth, so a message lost while Redis restarts delays, never loses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from redis.asyncio import Redis
from redis.exceptions import RedisError

from server.keys import CHANNEL_PREFIX as PREFIX
from server.publisher import QuietPublisher

_log = logging.getLogger("hangar.broker")


class Broker:
    """Publishes to and listens on `hangar:*` channels."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._listeners: dict[str, set[asyncio.Queue[str]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._subscribed = asyncio.Event()
        self._publisher = QuietPublisher(redis)

    async def start(self) -> None:
        """Subscribe (in the background; it reconnects when Redis comes back)."""
        if self._reader is None:
            self._reader = asyncio.create_task(self._read(), name="hangar-broker")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._subscribed.wait(), 5)

    async def close(self) -> None:
        """Stop listening and publishing."""
        await self._publisher.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None

    async def publish(self, channel: str, message: str) -> None:
        """Send a message; a Redis outage is logged, not raised (listeners also poll the database)."""
        await self.publish_many([(channel, message)])

    async def publish_many(self, messages: list[tuple[str, str]]) -> None:
        """Send several messages, in order, in one write (a Redis outage is logged, not raised)."""
        if not messages:
            return
        commands = [("PUBLISH", PREFIX + channel, message) for channel, message in messages]
        try:
            await self._publisher.send(commands)
        except (RedisError, OSError) as exc:
            _log.warning("could not publish %d messages: %s", len(messages), exc)

    @contextlib.asynccontextmanager
    async def listen(self, channel: str, maxsize: int = 10_000) -> AsyncIterator[asyncio.Queue[str]]:
        """A queue receiving the messages on `channel` while the block runs (once `maxsize` wait unread, the
        next ones are dropped: messages are hints)."""
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=maxsize)
        self._listeners.setdefault(channel, set()).add(queue)
        try:
            yield queue
        finally:
            listeners = self._listeners.get(channel, set())
            listeners.discard(queue)
            if not listeners:
                self._listeners.pop(channel, None)

    async def wait(self, channel: str, timeout: float) -> str | None:
        """The next message on `channel`, or None after `timeout` seconds."""
        async with self.listen(channel) as queue:
            try:
                return await asyncio.wait_for(queue.get(), timeout)
            except TimeoutError:
                return None

    async def _read(self) -> None:
        delay = 0.2
        while True:
            try:
                async with self._redis.pubsub() as pubsub:
                    await pubsub.psubscribe(PREFIX + "*")
                    self._subscribed.set()
                    delay = 0.2
                    async for message in pubsub.listen():
                        if message.get("type") == "pmessage":
                            self._dispatch(_text(message["channel"]), _text(message["data"]))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                _log.warning("live events interrupted (%s); reconnecting", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def _dispatch(self, channel: str, data: str) -> None:
        for queue in list(self._listeners.get(channel.removeprefix(PREFIX), ())):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(data)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
