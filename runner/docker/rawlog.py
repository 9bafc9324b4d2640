"""A container's log stream read straight off the Docker socket, for speed on steps that print a lot.

The Engine API streams logs with HTTP/1.1 chunked encoding, one chunk per log entry; an HTTP client that
handles each chunk separately spends most of its time on framing when a step prints a million lines. Asked
with HTTP/1.0, the daemon sends the same multiplexed stream unchunked until it closes the connection, so it
can be read in large blocks. Used for unix sockets (the common case); other transports use aiohttp.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from urllib.parse import quote

from runner.engine import EngineError

_READ_SIZE = 256 * 1024
_OK = 200


async def follow_log(socket_path: str, container_id: str) -> AsyncIterator[bytes]:
    """The raw multiplexed log stream of a container from its first byte until it exits."""
    reader, writer = await asyncio.open_unix_connection(socket_path)
    try:
        path = f"/containers/{quote(container_id)}/logs?stdout=1&stderr=1&follow=1"
        writer.write(f"GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n".encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *headers = head.decode("latin-1").split("\r\n")
        parts = status_line.split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
        if status != _OK:
            body = await reader.read(4096)
            raise EngineError(
                f"the log stream was refused ({status}): {body.decode(errors='replace').strip()}"
            )
        if any(h.lower().startswith("transfer-encoding:") and "chunked" in h.lower() for h in headers):
            raise EngineError("the Docker engine answered HTTP/1.0 with a chunked body")
        while data := await reader.read(_READ_SIZE):
            yield data
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as exc:
        raise EngineError(f"the log stream broke: {exc}") from None
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
