"""The server's shared cache as a `CacheStore`: what any runner saved, every runner restores.

A help, never a need: a server that cannot be reached, or refuses, makes `find` find nothing and `keep` keep
nothing (with a warning), and the build goes on. A download whose bytes do not match the entry's SHA-256 is
removed and raises `CacheCorrupt`, as a failed or vanished download does: the entry is not restored.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from pipelines.runner_api import CacheEntryInfo
from runner.caches.store import CacheCorrupt, StoredEntry
from runner.client import RunnerClient, RunnerError

_log = logging.getLogger("hangar.runner.caches")


class RemoteCacheStore:
    """The shared cache entries of the repository of one accepted stage (the server knows which)."""

    def __init__(self, client: RunnerClient, stage_id: int, lease: str = "") -> None:
        self.client = client
        self.stage_id = stage_id
        self.lease = lease

    async def find(self, key: str, prefixes: Sequence[str], branches: Sequence[str]) -> StoredEntry | None:
        """The server's best entry, or None (also when the server could not be asked)."""
        try:
            found = await self.client.find_cache(self.stage_id, key, prefixes, branches, self.lease)
        except RunnerError as exc:
            _log.warning("the shared cache could not be searched for %r: %s", key, exc)
            return None
        return _stored(found) if found is not None else None

    async def fetch(self, entry: StoredEntry, destination: Path) -> None:
        """Download the entry into `destination`, checked against its SHA-256 (CacheCorrupt when it is not
        there whole and right; nothing is left at `destination` then)."""
        try:
            written = await self.client.fetch_cache(self.stage_id, int(entry.handle), destination, self.lease)
        except (RunnerError, OSError, ValueError) as exc:
            await _remove(destination)
            raise CacheCorrupt(f"{entry.key} could not be downloaded: {exc}") from None
        if written is None:
            await _remove(destination)
            raise CacheCorrupt(f"{entry.key} is no longer on the server")
        if written != entry.sha256:
            await _remove(destination)
            raise CacheCorrupt(f"{entry.key} from the server does not match its checksum")

    async def keep(self, key: str, branch: str, archive: Path, sha256: str) -> StoredEntry | None:
        """Upload the archive; None when the server keeps nothing (the key is there already, the stage may
        not save, or the server failed). The server saves it under the stage's own branch."""
        try:
            kept = await self.client.keep_cache(self.stage_id, key, archive, sha256, self.lease)
        except (RunnerError, OSError) as exc:
            _log.warning("the shared cache did not keep %r (%s): %s", key, branch, exc)
            return None
        return _stored(kept) if kept is not None else None


def _stored(info: CacheEntryInfo) -> StoredEntry:
    return StoredEntry(
        key=info.key, branch=info.branch, size=info.size, sha256=info.sha256, created=info.created,
        handle=str(info.id),
    )  # fmt: skip


async def _remove(path: Path) -> None:
    await asyncio.to_thread(path.unlink, missing_ok=True)
