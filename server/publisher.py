"""Publishing live events on a Redis connection of its own, with Redis's replies switched off.

A PUBLISH through the client's pool takes a pooled connection (checked for unread data first), sends, then
waits for the reply (the event loop wakes for it) and gives the connection back: several times the cost of
the write itself, for a count of receivers nobody reads. Here one connection only ever writes: after
`CLIENT REPLY OFF` Redis sends nothing back, and every batch of messages is one write, in order. A Redis that
refuses `CLIENT REPLY OFF` is published to through the pool, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import RedisError, ResponseError

_log = logging.getLogger("hangar.broker")

Command = tuple[str, str, str]
NAME = "hangar-publisher"
"""The connection's name in Redis's CLIENT LIST."""


class QuietPublisher:
    """Sends PUBLISH commands on one connection that Redis never answers on."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._connection: AbstractConnection | None = None
        self._opening = asyncio.Lock()
        self._quiet = True
        """False once Redis refused to stop answering: the pool is used instead."""

    async def send(self, commands: Sequence[Command]) -> None:
        """Send the commands in one write, in order (once again on a new connection if the write fails: Redis
        may have restarted since the last one). Raises RedisError or OSError when Redis is unreachable."""
        try:
            await self._send(commands)
        except (RedisError, OSError):
            await self._drop()
            await self._send(commands)

    async def _send(self, commands: Sequence[Command]) -> None:
        connection = self._connection or await self._open()
        if connection is None:
            async with self._redis.pipeline(transaction=False) as pipe:
                for command in commands:
                    pipe.execute_command(*command)
                await pipe.execute()
            return
        await connection.send_packed_command(connection.pack_commands(commands), check_health=False)

    async def _open(self) -> AbstractConnection | None:
        """The quiet connection (made now if there is none), or None when Redis will not stay quiet."""
        async with self._opening:
            if self._connection is not None or not self._quiet:
                held: AbstractConnection | None = self._connection
                return held
            connection: AbstractConnection = self._redis.connection_pool.make_connection()  # type: ignore[no-untyped-call]
            await connection.connect()  # type: ignore[no-untyped-call]
            try:
                # named for CLIENT LIST; OFF has no reply and ON has one: an error there means OFF was refused
                setup = [("CLIENT", "SETNAME", NAME), ("CLIENT", "REPLY", "OFF"), ("CLIENT", "REPLY", "ON")]
                await connection.send_packed_command(connection.pack_commands(setup))
                await connection.read_response()
                await connection.read_response()
            except ResponseError as exc:
                _log.info("Redis keeps answering publishes (%s): publishing through the pool", exc)
                self._quiet = False
                await connection.disconnect()
                return None
            except BaseException:
                await connection.disconnect()
                raise
            await connection.send_command("CLIENT", "REPLY", "OFF", check_health=False)
            self._connection = connection
            return connection

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(RedisError, OSError):
                await connection.disconnect()

    async def close(self) -> None:
        """Close the connection."""
        await self._drop()
