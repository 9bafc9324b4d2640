"""The shared cache's rows: finding the entry to restore, adding one, the least recently used past a size,
and a repository's purge."""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import func, or_, update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pipelines.cache_lookup import best_entry
from server.db.models import CacheEntry, Repo
from server.store.rows import save


async def find_best(
    session: AsyncSession, repo: Repo, key: str, prefixes: Sequence[str], branches: Sequence[str]
) -> CacheEntry | None:
    """The entry of the repository's current generation to restore (`pipelines.cache_lookup`'s rule)."""
    if not branches:
        return None
    matching = [col(CacheEntry.key) == key]
    matching += [col(CacheEntry.key).startswith(prefix, autoescape=True) for prefix in prefixes if prefix]
    query = select(CacheEntry).where(
        CacheEntry.repo_id == (repo.id or 0),
        CacheEntry.generation == repo.cache_generation,
        col(CacheEntry.branch).in_(branches),
        or_(*matching),
    )
    return best_entry((await session.exec(query)).all(), key, prefixes, branches)


async def find_entry(session: AsyncSession, repo: Repo, entry_id: int) -> CacheEntry | None:
    """An entry of the repository's current generation, by id."""
    entry = await session.get(CacheEntry, entry_id)
    if entry is None or entry.repo_id != repo.id or entry.generation != repo.cache_generation:
        return None
    return entry


async def key_taken(session: AsyncSession, repo_id: int, generation: int, branch: str, key: str) -> bool:
    """Whether the key is already kept for that branch and generation."""
    query = select(CacheEntry.id).where(
        CacheEntry.repo_id == repo_id,
        CacheEntry.generation == generation,
        CacheEntry.branch == branch,
        CacheEntry.key == key,
    )
    return (await session.exec(query)).first() is not None


async def add_entry(session: AsyncSession, entry: CacheEntry) -> CacheEntry:
    """Store a new entry (its id set on return)."""
    return await save(session, entry)


async def touch(session: AsyncSession, entry: CacheEntry) -> None:
    """Mark the entry used now (what eviction goes by)."""
    entry.last_used = time.time()
    await save(session, entry)


async def list_entries(session: AsyncSession, repo: Repo) -> Sequence[CacheEntry]:
    """The entries of the repository's current generation, the most recently used first."""
    query = (
        select(CacheEntry)
        .where(CacheEntry.repo_id == (repo.id or 0), CacheEntry.generation == repo.cache_generation)
        .order_by(col(CacheEntry.last_used).desc(), col(CacheEntry.id).desc())
    )
    return (await session.exec(query)).all()


async def evict_past(session: AsyncSession, repo_id: int, most: int, keep: int) -> list[CacheEntry]:
    """Delete the least recently used entries of the repository (never entry `keep`) until they take at most
    `most` bytes together; the entries deleted (their files are the caller's)."""
    total_query = select(func.coalesce(func.sum(CacheEntry.size), 0)).where(CacheEntry.repo_id == repo_id)
    total = int((await session.exec(total_query)).one())
    if total <= most:
        return []
    oldest_first = (
        select(CacheEntry)
        .where(CacheEntry.repo_id == repo_id, CacheEntry.id != keep)
        .order_by(col(CacheEntry.last_used), col(CacheEntry.id))
    )
    evicted: list[CacheEntry] = []
    for entry in (await session.exec(oldest_first)).all():
        if total <= most:
            break
        evicted.append(entry)
        total -= entry.size
    await _delete(session, [entry.id or 0 for entry in evicted])
    return evicted


async def purge(session: AsyncSession, repo_id: int) -> tuple[int, list[CacheEntry]]:
    """Raise the repository's generation (no runner restores an older entry, from the server or its own disk)
    and delete all its entries; the new generation, and the entries deleted (their files are the caller's)."""
    await session.exec(
        update(Repo).where(col(Repo.id) == repo_id).values(cache_generation=Repo.cache_generation + 1)
    )
    generation = (await session.exec(select(Repo.cache_generation).where(Repo.id == repo_id))).one()
    entries = list((await session.exec(select(CacheEntry).where(CacheEntry.repo_id == repo_id))).all())
    await _delete(session, [entry.id or 0 for entry in entries])
    return generation, entries


async def _delete(session: AsyncSession, ids: list[int]) -> None:
    if ids:
        await session.exec(delete(CacheEntry).where(col(CacheEntry.id).in_(ids)))
