"""The runner's own cache: entry files on its disk, a folder per scope and generation, bounded in size.

`<root>/<scope>/gen-<n>/<id>.entry` is the archive, `<id>.json` beside it its key, branch, size, SHA-256 and
time of saving; an entry exists once its `.json` does (both are written under a temp name and renamed).
The entry file's modification time is its last use: past `max_bytes` (all scopes together) the least
recently used entries go. Older generations of a scope (before a purge) are removed when it is next used.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pipelines.cache_lookup import best_entry
from runner.caches.bundle import file_sha256
from runner.caches.store import CacheCorrupt, StoredEntry

TEMP_PREFIX = ".tmp-"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class DiskStore:
    """A CacheStore on the local disk for one scope (a repository) and generation."""

    root: Path
    scope: str
    generation: int = 0
    max_bytes: int = 10 * 1024**3

    @property
    def folder(self) -> Path:
        """Where this scope's current entries are."""
        return self.root / (_UNSAFE.sub("-", self.scope) or "default") / f"gen-{self.generation}"

    def temp_file(self) -> Path:
        """A fresh temporary name on the store's filesystem (so keeping it is a link, not a copy)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self.folder / f"{TEMP_PREFIX}{uuid.uuid4().hex}"

    async def find(self, key: str, prefixes: Sequence[str], branches: Sequence[str]) -> StoredEntry | None:
        """The best entry on disk (the lookup rule of `pipelines.cache_lookup`)."""
        return await asyncio.to_thread(self._find, key, prefixes, branches)

    def _find(self, key: str, prefixes: Sequence[str], branches: Sequence[str]) -> StoredEntry | None:
        self._drop_old_generations()
        return best_entry(self.entries(), key, prefixes, branches)

    def entries(self) -> list[StoredEntry]:
        """Every complete entry of this scope and generation."""
        found: list[StoredEntry] = []
        for meta in sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []:
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                data = json.loads(meta.read_text())
                found.append(
                    StoredEntry(
                        key=str(data["key"]),
                        branch=str(data["branch"]),
                        size=int(data["size"]),
                        sha256=str(data["sha256"]),
                        created=float(data["created"]),
                        handle=meta.stem,
                    )
                )
        return found

    async def fetch(self, entry: StoredEntry, destination: Path) -> None:
        """Link (or copy) the entry's file to destination and check it; a corrupt entry is removed."""
        await asyncio.to_thread(self._fetch, entry, destination)

    def _fetch(self, entry: StoredEntry, destination: Path) -> None:
        source = self.folder / f"{entry.handle}.entry"
        try:
            os.link(source, destination)
        except OSError:
            shutil.copyfile(source, destination)
        with contextlib.suppress(OSError):
            os.utime(source)  # its last use, for the LRU eviction
        if file_sha256(destination) != entry.sha256:
            self.forget(entry)
            raise CacheCorrupt(f"{entry.key}: its bytes do not match its SHA-256 (removed)")

    async def keep(self, key: str, branch: str, archive: Path, sha256: str) -> StoredEntry | None:
        """Keep a link to (or copy of) the archive under key and branch, unless that key is already here."""
        return await asyncio.to_thread(self._keep, key, branch, archive, sha256)

    def _keep(self, key: str, branch: str, archive: Path, sha256: str) -> StoredEntry | None:
        handle = hashlib.sha256(f"{branch}\0{key}".encode()).hexdigest()[:32]
        meta = self.folder / f"{handle}.json"
        if meta.exists():
            return None
        temp = self.temp_file()
        try:
            os.link(archive, temp)
        except OSError:
            shutil.copyfile(archive, temp)
        size = temp.stat().st_size
        entry = StoredEntry(key, branch, size, sha256, time.time(), handle)
        os.replace(temp, self.folder / f"{handle}.entry")
        data = {"key": key, "branch": branch, "size": size, "sha256": sha256, "created": entry.created}
        temp.write_text(json.dumps(data))
        os.replace(temp, meta)
        evict(self.root, self.max_bytes, keep=self.folder / f"{handle}.entry")
        return entry

    def forget(self, entry: StoredEntry) -> None:
        """Remove an entry (its metadata first, so it is never seen half removed)."""
        for suffix in (".json", ".entry"):
            with contextlib.suppress(FileNotFoundError):
                (self.folder / f"{entry.handle}{suffix}").unlink()

    def _drop_old_generations(self) -> None:
        scope = self.folder.parent
        for folder in scope.glob("gen-*") if scope.is_dir() else []:
            if folder != self.folder:
                shutil.rmtree(folder, ignore_errors=True)


def evict(root: Path, max_bytes: int, keep: Path | None = None) -> list[Path]:
    """Remove the least recently used entries under root until they fit in max_bytes; what was removed.

    Temp files older than a day (a runner that died while saving) go too."""
    entries: list[tuple[float, int, Path]] = []
    for path in root.glob("*/gen-*/*"):
        with contextlib.suppress(FileNotFoundError):
            status = path.stat()
            if path.name.startswith(TEMP_PREFIX):
                if status.st_mtime < time.time() - 86400:
                    path.unlink()
            elif path.suffix == ".entry":
                entries.append((status.st_mtime, status.st_size, path))
    total = sum(size for _, size, _ in entries)
    removed: list[Path] = []
    for _, size, path in sorted(entries):
        if total <= max_bytes:
            break
        if path == keep:
            continue
        with contextlib.suppress(FileNotFoundError):
            path.with_suffix(".json").unlink()
            path.unlink()
        total -= size
        removed.append(path)
    return removed
