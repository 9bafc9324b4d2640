"""The runner's cache entry file: Docker's own tar of each kept path, one after another, then an index.

Saving streams each path's archive from the engine straight into the file (hashing it on the way);
restoring streams each back into its folder. No archive is ever unpacked or rewritten by the runner.

Layout: `HANGAR-CACHE 1\\n`, the archives, a JSON index line `{"segments": [{"folder", "offset", "size"}]}`,
and a last line of 20 characters: the index's offset.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MAGIC = b"HANGAR-CACHE 1\n"
_TRAILER = 20
_CHUNK = 1024 * 1024


class BadBundle(ValueError):
    """The file is not a cache entry this runner can read."""


@dataclass(frozen=True, slots=True)
class Segment:
    """One path's tar: unpacked into `folder` (the path's parent)."""

    folder: str
    offset: int
    size: int


class BundleWriter:
    """Writes an entry file, hashing what it writes."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.digest = hashlib.sha256()
        self.segments: list[Segment] = []
        self._write(MAGIC)

    def _write(self, data: bytes) -> None:
        self.out.write(data)
        self.digest.update(data)

    async def add(self, path: str, chunks: AsyncIterator[bytes]) -> None:
        """Append the archive of `path` (as the engine streams it)."""
        offset = self.out.tell()
        async for chunk in chunks:
            self._write(chunk)
        folder = os.path.dirname(path.rstrip("/")) or "/"
        self.segments.append(Segment(folder, offset, self.out.tell() - offset))

    def finish(self) -> str:
        """Write the index; the file's SHA-256."""
        index_at = self.out.tell()
        segments = [{"folder": s.folder, "offset": s.offset, "size": s.size} for s in self.segments]
        self._write(json.dumps({"segments": segments}).encode() + b"\n")
        self._write(f"{index_at:019d}\n".encode())
        self.out.flush()
        return self.digest.hexdigest()


def segments_of(path: Path) -> list[Segment]:
    """The archives an entry file holds; BadBundle when it is not one."""
    with path.open("rb") as data:
        if data.read(len(MAGIC)) != MAGIC:
            raise BadBundle("not a Hangar cache entry")
        size = data.seek(0, os.SEEK_END)
        if size < len(MAGIC) + _TRAILER:
            raise BadBundle("the cache entry is cut short")
        data.seek(size - _TRAILER)
        try:
            index_at = int(data.read(_TRAILER))
            data.seek(index_at)
            index = json.loads(data.read(size - _TRAILER - index_at))
            return [Segment(str(s["folder"]), int(s["offset"]), int(s["size"])) for s in index["segments"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise BadBundle(f"the cache entry's index is unreadable: {exc}") from None


async def read_segment(path: Path, segment: Segment) -> AsyncIterator[bytes]:
    """A segment's bytes, in chunks."""
    with path.open("rb") as data:
        data.seek(segment.offset)
        left = segment.size
        while left > 0:
            chunk = data.read(min(_CHUNK, left))
            if not chunk:
                raise BadBundle("the cache entry is cut short")
            left -= len(chunk)
            yield chunk


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as data:
        while chunk := data.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
