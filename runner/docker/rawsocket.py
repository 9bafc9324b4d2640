"""Engine API calls made straight on the Docker unix socket, where an HTTP client costs too much.

Logs: the API streams them with HTTP/1.1 chunked encoding, one chunk per log entry; a client that handles
each chunk separately spends most of its time on framing when a step prints a million lines. Asked with
HTTP/1.0, the daemon sends the same multiplexed stream unchunked until it closes, so it is read in blocks.

Archives: `GET /containers/{id}/archive` is chunked too; asked with HTTP/1.0 it is read in blocks at the
speed of the socket (an HTTP client's chunk handling made a cache save several times slower).

Output: `POST /containers/{id}/attach` with stdout and stderr, opened before the step starts (as `docker run`
does), streams the same multiplexed frames as they are written, several times faster than the log API.

Stdin: an armed container waits for a line on stdin; attaching to it when it is created (the connection is
hijacked, then kept) makes starting the step a single write on an open socket.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from urllib.parse import quote

from runner.engine import EngineError

_READ_SIZE = 256 * 1024
_OK, _UPGRADED, _NOT_FOUND = 200, 101, 404


class NotFound(EngineError):
    """The engine answered 404: nothing at that path."""


async def follow_log(socket_path: str, container_id: str) -> AsyncIterator[bytes]:
    """The raw multiplexed log stream of a container from its first byte until it exits."""
    path = f"/containers/{quote(container_id)}/logs?stdout=1&stderr=1&follow=1"
    async with contextlib.aclosing(_get(socket_path, path, "log stream")) as blocks:
        async for data in blocks:
            yield data


async def read_archive(socket_path: str, container_id: str, path: str) -> AsyncGenerator[bytes]:
    """A tar of `path` in the container, in blocks; NotFound (before any block) when nothing is there."""
    query = f"/containers/{quote(container_id)}/archive?path={quote(path)}"
    async with contextlib.aclosing(_get(socket_path, query, f"archive of {path}")) as blocks:
        async for data in blocks:
            yield data


async def _get(socket_path: str, path: str, what: str) -> AsyncGenerator[bytes]:
    """An HTTP/1.0 GET's body, unchunked, in blocks until the daemon closes the connection."""
    reader, writer = await _request(socket_path, f"GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n", what)
    try:
        while data := await reader.read(_READ_SIZE):
            yield data
    except ConnectionError as exc:
        raise EngineError(f"the {what} broke: {exc}") from None
    finally:
        await close(writer)


async def attach_stdin(socket_path: str, container_id: str) -> asyncio.StreamWriter:
    """A hijacked connection writing to the container's stdin."""
    path = f"/containers/{quote(container_id)}/attach?stream=1&stdin=1"
    _, writer = await _request(socket_path, _upgrade_request(path), "stdin attach", upgrade=True)
    return writer


def _upgrade_request(path: str) -> str:
    """A POST asking the daemon to hijack the connection (as `docker attach` does)."""
    headers = "Host: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0"
    return f"POST {path} HTTP/1.1\r\n{headers}\r\n\r\n"


async def attach_output(
    socket_path: str, container_id: str
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A hijacked connection streaming the container's stdout and stderr (multiplexed frames) from now on."""
    path = f"/containers/{quote(container_id)}/attach?stream=1&stdout=1&stderr=1"
    return await _request(socket_path, _upgrade_request(path), "output attach", upgrade=True)


async def answers(socket_path: str, timeout: float = 5.0) -> bool:
    """Whether the daemon takes a new connection on its socket and answers `/_ping` on it. A stopping one
    refuses it at once (its socket closed or gone); one slow to answer is busy, not gone."""
    try:
        async with asyncio.timeout(timeout):
            _, writer = await _request(socket_path, "GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n", "ping")
    except TimeoutError:  # (before OSError, its base class)
        return True
    except (EngineError, OSError):
        return False
    await close(writer)
    return True


async def close(writer: asyncio.StreamWriter) -> None:
    """Close a connection, ignoring a peer that is already gone."""
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()


async def _request(
    socket_path: str, request: str, what: str, *, upgrade: bool = False
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Send a request and read the response head; the caller reads the body or the hijacked stream."""
    reader, writer = await asyncio.open_unix_connection(socket_path)
    try:
        writer.write(request.encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *headers = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        if status not in ((_UPGRADED, _OK) if upgrade else (_OK,)):
            body = await reader.read(4096)
            if status == _NOT_FOUND:
                raise NotFound(f"the {what} was refused ({status}): {body.decode(errors='replace').strip()}")
            raise EngineError(f"the {what} was refused ({status}): {body.decode(errors='replace').strip()}")
        if not upgrade and any(
            h.lower().startswith("transfer-encoding:") and "chunked" in h for h in headers
        ):
            raise EngineError("the Docker engine answered HTTP/1.0 with a chunked body")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as exc:
        await close(writer)
        raise EngineError(f"the {what} broke: {exc}") from None
    except BaseException:
        await close(writer)
        raise
    return reader, writer
