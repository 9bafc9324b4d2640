"""What people do with a repository's caches: list the shared entries, purge them all."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from server.caches import entries, files
from server.db.models import CacheEntry, Repo
from server.services import Services


@dataclass(frozen=True)
class Purged:
    """What a purge did: the generation from now on, the entries and bytes removed."""

    generation: int
    removed: int
    size: int


async def list_caches(hangar: Services, repo: Repo) -> Sequence[CacheEntry]:
    """The repository's shared entries, the most recently used first."""
    async with hangar.reading() as session:
        return await entries.list_entries(session, repo)


async def purge_caches(hangar: Services, repo: Repo) -> Purged:
    """Raise the repository's cache generation (runners restore nothing older, from anywhere) and remove its
    shared entries with their files."""
    async with hangar.transaction() as (session, _changes):
        generation, removed = await entries.purge(session, repo.id or 0)
    data, repo_id = hangar.settings.data, repo.id or 0
    await asyncio.to_thread(files.discard, [files.entry_path(data, repo_id, e.id or 0) for e in removed])
    return Purged(generation, len(removed), sum(entry.size for entry in removed))


async def forget_caches(hangar: Services, repo_id: int) -> None:
    """Remove the files of a repository that is gone (its rows went with it)."""
    await asyncio.to_thread(files.remove_repo_files, hangar.settings.data, repo_id)


def cache_view(entry: CacheEntry) -> dict[str, Any]:
    """A shared entry as the API shows it."""
    fields = ("id", "key", "branch", "size", "sha256", "runner", "created", "last_used")
    return {name: getattr(entry, name) for name in fields}
