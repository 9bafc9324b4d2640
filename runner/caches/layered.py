"""Several stores as one: the runner's disk first, then the server's shared cache; saves go to every one."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from runner.caches.store import CacheStore, StoredEntry

Note = Callable[[str], None]


@dataclass
class LayeredStore:
    """Looks in each store in order and takes the first match; keeps into every store that lacks the key.

    An entry fetched from a later store is kept in the earlier ones too (the shared cache fills the disk).
    A store that fails (the server away) is skipped with a note; the build never fails for a cache.
    """

    stores: Sequence[CacheStore]
    notes: list[str] = field(default_factory=list)
    _found_in: dict[StoredEntry, int] = field(default_factory=dict)

    async def find(self, key: str, prefixes: Sequence[str], branches: Sequence[str]) -> StoredEntry | None:
        """The first store's best entry (a later store is asked only when an earlier one has none)."""
        for position, store in enumerate(self.stores):
            try:
                entry = await store.find(key, prefixes, branches)
            except Exception as exc:  # one store failing must not stop the others
                self._note(position, exc)
                continue
            if entry is not None:
                self._found_in[entry] = position
                return entry
        return None

    async def fetch(self, entry: StoredEntry, destination: Path) -> None:
        """Fetch from the store that found it, then keep it in the stores before that one."""
        position = self._found_in.get(entry, 0)
        await self.stores[position].fetch(entry, destination)
        for earlier, store in enumerate(self.stores[:position]):
            try:
                await store.keep(entry.key, entry.branch, destination, entry.sha256)
            except Exception as exc:
                self._note(earlier, exc)

    async def keep(self, key: str, branch: str, archive: Path, sha256: str) -> StoredEntry | None:
        """Keep it in every store that does not have the key yet; the first store's answer (None: none took
        it, every store had it already or failed)."""
        kept: StoredEntry | None = None
        for position, store in enumerate(self.stores):
            try:
                entry = await store.keep(key, branch, archive, sha256)
            except Exception as exc:
                self._note(position, exc)
                continue
            kept = kept or entry
        return kept

    async def has_everywhere(self, key: str, branch: str) -> bool:
        """Whether every store already has exactly this key on this branch (nothing to save)."""
        for store in self.stores:
            with contextlib.suppress(Exception):
                entry = await store.find(key, (), (branch,))
                if entry is not None and entry.key == key:
                    continue
            return False
        return True

    def _note(self, position: int, exc: Exception) -> None:
        name = type(self.stores[position]).__name__
        self.notes.append(f"cache store {name} failed: {exc or type(exc).__name__}")
