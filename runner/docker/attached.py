"""A step's output read the way `docker run` reads it: through an attach connection opened before the step
starts, which streams stdout and stderr as the step writes them (Docker's log-follow API is several times
slower for a step printing a lot).

The connection is read as fast as the engine sends, whatever the step's log consumer does: what it has not
taken yet waits in memory, then in an unlinked temporary file, so a slow consumer (a server away for a while)
never blocks the step's writes, just as the log API's follower never did. Should the connection break while
the step runs, the rest comes from the log API, skipping what was already delivered.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import BinaryIO

from runner.docker.frames import LineFrames

_READ_SIZE = 256 * 1024
HELD_IN_MEMORY = 8 * 1024 * 1024
"""Output not taken yet in memory; past this it goes to a temporary file until the consumer catches up."""


class Spool:
    """Bytes put by one task, taken in order by another; past `in_memory` bytes held, to a temporary file."""

    def __init__(self, in_memory: int = HELD_IN_MEMORY) -> None:
        self._in_memory = in_memory
        self._chunks: deque[bytes] = deque()
        self._held = 0
        self._file: BinaryIO | None = None
        self._written = 0
        self._read = 0
        self._ended = False
        self.error: str | None = None
        """Why the writer stopped early (None: it ended at the stream's end, or has not ended)."""
        self._arrived = asyncio.Event()

    def put(self, data: bytes) -> None:
        """Add bytes at the end."""
        if self._file is None and self._held + len(data) <= self._in_memory:
            self._chunks.append(data)
            self._held += len(data)
        else:
            if self._file is None:
                self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed once read, or by close())
            self._file.seek(self._written)
            self._file.write(data)
            self._written += len(data)
        self._arrived.set()

    def end(self, error: str | None = None) -> None:
        """No more bytes will come (error: why the stream stopped early)."""
        self._ended, self.error = True, error
        self._arrived.set()

    async def take(self) -> bytes:
        """The next bytes in order; b"" once everything put was taken and the writer ended."""
        while True:
            if self._chunks:
                data = self._chunks.popleft()
                self._held -= len(data)
                return data
            if self._file is not None:
                if self._read < self._written:
                    self._file.seek(self._read)
                    data = self._file.read(_READ_SIZE)
                    self._read += len(data)
                    return data
                self._close_file()  # caught up: new bytes go to memory again
            if self._ended:
                return b""
            self._arrived.clear()
            await self._arrived.wait()

    def close(self) -> None:
        """Drop whatever is held."""
        self._chunks.clear()
        self._held = 0
        self._close_file()

    def _close_file(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file, self._written, self._read = None, 0, 0


class AttachedOutput:
    """One container's attach connection (stdout and stderr), read into a Spool once the step starts."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer
        self.spool = Spool(HELD_IN_MEMORY)
        self._task: asyncio.Task[None] | None = None

    def begin(self) -> None:
        """Start reading (before the step's first write: nothing is lost)."""
        if self._task is None:
            self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        error: str | None = None
        try:
            while data := await self._reader.read(_READ_SIZE):
                self.spool.put(data)
        except (ConnectionError, OSError) as exc:
            error = str(exc) or type(exc).__name__
        finally:
            self.spool.end(error)
            self._writer.close()  # (not awaited: a cancel here would cancel the transport's close waiter)

    async def close(self) -> None:
        """Stop reading and drop what is held."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._writer.close()
        self.spool.close()


async def attached_payloads(
    attached: AttachedOutput, log_api: Callable[[], AsyncIterator[bytes]]
) -> AsyncIterator[bytes]:
    """The step's output from its attach connection, whole lines of stdout and stderr in the order they
    ended; if the connection breaks early, the rest from the log API (`log_api()`: raw frames from start)."""
    lines = LineFrames()
    attached.begin()
    while data := await attached.spool.take():
        if whole := lines.feed(data):
            yield whole
    if attached.spool.error is not None:
        lines.skip_received()
        async for data in log_api():
            if whole := lines.feed(data):
                yield whole
    if rest := lines.flush():
        yield rest
