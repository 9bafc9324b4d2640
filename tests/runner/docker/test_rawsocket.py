"""Whether the engine answers (asked after a step died of a signal): a stopped engine is told from a busy one.

The engines here are plain unix sockets in tmp_path standing in for the daemon's: a stopped engine refuses
the connection (or its socket is gone), which a real daemon cannot be made to do without stopping it for every
test, and a busy one takes the connection but answers late, which a real daemon does only under heavy load.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from runner.docker.rawsocket import answers

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@contextlib.asynccontextmanager
async def _serve(path: Path, handler: Handler) -> AsyncIterator[None]:
    """A unix socket server at `path` while the block runs."""
    server = await asyncio.start_unix_server(handler, str(path))
    async with server:
        yield


async def test_an_engine_whose_socket_is_gone_does_not_answer(tmp_path: Path) -> None:
    assert not await answers(str(tmp_path / "docker.sock"))


async def test_an_engine_that_refuses_the_connection_does_not_answer(tmp_path: Path) -> None:
    path = tmp_path / "docker.sock"
    with socket.socket(socket.AF_UNIX) as closed:  # the socket file is there, nothing listens on it
        closed.bind(str(path))
    assert not await answers(str(path))


async def test_an_engine_that_answers_the_ping_answers(tmp_path: Path) -> None:
    async def pong(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nOK")
        await writer.drain()
        writer.close()

    path = tmp_path / "docker.sock"
    async with _serve(path, pong):
        assert await answers(str(path))


async def test_a_busy_engine_slow_to_answer_the_ping_still_counts_as_there(tmp_path: Path) -> None:
    """A step killed by a signal on a loaded machine must not become "the Docker engine stopped"."""
    release = asyncio.Event()

    async def busy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.close()

    path = tmp_path / "docker.sock"
    async with _serve(path, busy):
        try:
            assert await answers(str(path), timeout=0.5)
        finally:
            release.set()
