"""Where cache entries are kept, as the executor sees it: the runner's disk, the server, or both.

An entry is one archive file (its format is the runner's business; stores keep it as opaque bytes) with its
key, the branch it was saved under, its size and SHA-256. A store never hands out an entry whose bytes do not
match its checksum, and never shows an entry before it is completely written.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class StoredEntry:
    """A cache entry a store holds."""

    key: str
    branch: str
    size: int
    sha256: str
    created: float
    handle: str = ""
    """The store's own name for it (a file name, the server's entry id)."""


class CacheStore(Protocol):
    """A place to find, fetch and keep cache entries of one repository (its scope and generation)."""

    async def find(self, key: str, prefixes: Sequence[str], branches: Sequence[str]) -> StoredEntry | None:
        """The best entry (`pipelines`' lookup rule: per branch in order, the exact key, else the newest whose
        key starts with the longest of `prefixes`), or None."""

    async def fetch(self, entry: StoredEntry, destination: Path) -> None:
        """Write the entry's archive to `destination`, checked against its SHA-256 (CacheCorrupt if not)."""

    async def keep(self, key: str, branch: str, archive: Path, sha256: str) -> StoredEntry | None:
        """Keep the archive under key and branch, unless the key is already there (None then)."""


class CacheCorrupt(Exception):
    """An entry's bytes do not match its checksum: it is ignored (and the store forgets it)."""
