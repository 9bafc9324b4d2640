"""Where the shared cache keeps entries' bytes: `<data>/caches/<repo id>/<entry id>`, written through a temp
file beside them (hashed while written, renamed into place when whole) and read back in chunks."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import secrets
import shutil
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 1024 * 1024
"""Bytes written or read at a time (off the event loop)."""
INCOMING = ".incoming-"


class TooLarge(Exception):
    """The body went past the most that may be kept."""


@dataclass(frozen=True)
class Received:
    """A body written to a temp file: where, how long, its SHA-256."""

    path: Path
    size: int
    sha256: str


def repo_folder(data: Path, repo_id: int) -> Path:
    """The folder of a repository's entries."""
    return data / "caches" / str(repo_id)


def entry_path(data: Path, repo_id: int, entry_id: int) -> Path:
    """The file of an entry."""
    return repo_folder(data, repo_id) / str(entry_id)


async def receive(body: AsyncIterable[bytes], folder: Path, limit: int) -> Received:
    """Write the body to a new temp file in `folder`, hashing it; TooLarge past `limit` bytes (the temp file
    is removed whenever this raises)."""
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    path = folder / f"{INCOMING}{secrets.token_hex(8)}"
    digest, size, pending = hashlib.sha256(), 0, bytearray()
    try:
        with await asyncio.to_thread(path.open, "wb") as file:
            async for chunk in body:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(f"more than {limit} bytes")
                pending += chunk
                if len(pending) >= CHUNK:
                    await asyncio.to_thread(_write, file, digest, bytes(pending))
                    pending.clear()
            await asyncio.to_thread(_write, file, digest, bytes(pending))
    except BaseException:
        await asyncio.to_thread(discard, [path])
        raise
    return Received(path, size, digest.hexdigest())


def _write(file: BinaryIO, digest: hashlib._Hash, data: bytes) -> None:
    digest.update(data)
    file.write(data)


async def chunks(file: BinaryIO) -> AsyncIterator[bytes]:
    """An open file's bytes, a chunk at a time (closed at the end)."""
    try:
        while chunk := await asyncio.to_thread(file.read, CHUNK):
            yield chunk
    finally:
        file.close()


def place(received: Received, destination: Path) -> None:
    """Move a received body into place (atomically: a reader sees all of it or nothing)."""
    os.replace(received.path, destination)


def discard(paths: Iterable[Path]) -> None:
    """Remove these files (those already gone are no matter)."""
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def remove_repo_files(data: Path, repo_id: int) -> None:
    """Remove a repository's folder of entries, with any temp file left in it."""
    shutil.rmtree(repo_folder(data, repo_id), ignore_errors=True)
