"""Which cache entry a build restores: one rule for the runner's disk and the server's shared cache.

Per branch in order (the build's own, then its fallbacks): the entry whose key is exactly the wanted key,
else the newest entry whose key starts with the longest of the key's prefixes (the text before each of the
template's placeholders, so `pip-{{ checksum "requirements.txt" }}` falls back to the newest `pip-` entry).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar


class Keyed(Protocol):
    """What the rule reads of an entry."""

    @property
    def key(self) -> str: ...

    @property
    def branch(self) -> str: ...

    @property
    def created(self) -> float: ...


Entry = TypeVar("Entry", bound=Keyed)


def best_entry(
    entries: Iterable[Entry], key: str, prefixes: Sequence[str], branches: Sequence[str]
) -> Entry | None:
    """The entry to restore, or None (an empty prefix never matches: it would restore anything)."""
    candidates = list(entries)
    longest_first = sorted({p for p in prefixes if p and key.startswith(p)}, key=len, reverse=True)
    for branch in dict.fromkeys(branches):
        mine = [entry for entry in candidates if entry.branch == branch]
        exact = [entry for entry in mine if entry.key == key]
        if exact:
            return max(exact, key=lambda entry: entry.created)
        for prefix in longest_first:
            matching = [entry for entry in mine if entry.key.startswith(prefix)]
            if matching:
                return max(matching, key=lambda entry: entry.created)
    return None
