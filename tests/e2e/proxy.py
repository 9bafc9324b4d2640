"""A TCP reverse proxy in front of server replicas, as a load balancer does it: each new connection goes to
the next replica in turn, and to the one after when a replica refuses it (nginx's round robin with
`proxy_next_upstream error`). Runs in a thread of its own, so any test (sync or async) can use it."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

CHUNK = 64 * 1024
T = TypeVar("T")


class Proxy:
    """Listens on 127.0.0.1:`port` and forwards each connection to one of the `backends` (ports)."""

    def __init__(self, backends: list[int]) -> None:
        self._backends = list(backends)
        self._turn = itertools.count()
        self._open: dict[int, set[asyncio.StreamWriter]] = {}
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="proxy", daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        """The address clients use."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start listening (on an ephemeral port)."""
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._connected, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        """Close every connection and stop."""
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
            self.route()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def route(self, *backends: int) -> None:
        """Send new connections to these backends only, and close those open to any other (a replica taken
        out of the rotation: its clients connect again, to the others)."""
        self._backends = list(backends)

        async def close_others() -> None:
            for port, writers in self._open.items():
                if port not in backends:
                    for writer in list(writers):
                        writer.transport.abort()

        self._call(close_others())

    def _call(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(30)

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await self._connect()
        if upstream is None:
            writer.transport.abort()
            return
        port, (up_reader, up_writer) = upstream
        sides = self._open.setdefault(port, set())
        sides.update((writer, up_writer))
        try:
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            sides.difference_update((writer, up_writer))
            for side in (writer, up_writer):
                side.transport.abort()

    async def _connect(self) -> tuple[int, tuple[asyncio.StreamReader, asyncio.StreamWriter]] | None:
        backends = list(self._backends)
        if not backends:
            return None
        first = next(self._turn)
        for offset in range(len(backends)):
            port = backends[(first + offset) % len(backends)]
            with contextlib.suppress(OSError):
                return port, await asyncio.open_connection("127.0.0.1", port)
        return None


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until either side ends; then end both (a replica gone resets its clients' connections)."""
    try:
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.transport.abort()


@contextlib.contextmanager
def proxy(backends: list[int]) -> Iterator[Proxy]:
    """A running Proxy in front of `backends`, stopped at the end."""
    running = Proxy(backends)
    running.start()
    try:
        yield running
    finally:
        running.stop()
