"""The repository's own files as an evaluation sees them: paths resolved, `..` out refused, reads counted."""

from __future__ import annotations

import posixpath
from collections.abc import Callable

FileReader = Callable[[str], "str | None"]
"""A file of the repository at the commit being built, by repository-relative path (None: no such file)."""


class ImportRefused(Exception):
    """An import or load() that may not be read; the message says why."""


def resolve(folder: str, requested: str) -> str:
    """The repository-relative path that `requested` names, read from `folder` ("" for the repository's root).

    Jsonnet resolves an import from the importing file's folder; Starlark's load(), as Drone's command line
    does, from the root. A leading `/` or `//` also starts at the root. A path that leaves the repository is
    refused.
    """
    if not requested or "\x00" in requested:
        raise ImportRefused(f"{requested!r} is not a file name")
    if requested.startswith("@"):
        raise ImportRefused(f"cannot load {requested}: only the repository's own files can be loaded")
    joined = requested.lstrip("/") if requested.startswith("/") else posixpath.join(folder, requested)
    path = posixpath.normpath(joined) if joined else "."
    if path in (".", "..") or path.startswith("../"):
        raise ImportRefused(f"{requested} is outside the repository (only the repository's own files)")
    return path


class RepositoryFiles:
    """Reads the repository's files for one evaluation: each once, at most `limit` of them."""

    def __init__(self, read: FileReader, limit: int) -> None:
        self._read = read
        self._limit = limit
        self._cache: dict[str, str] = {}

    def read(self, path: str) -> str:
        """The text of `path` (repository-relative); ImportRefused when missing or over the limit."""
        cached = self._cache.get(path)
        if cached is not None:
            return cached
        if len(self._cache) >= self._limit:
            raise ImportRefused(f"cannot read {path}: more than {self._limit} files imported")
        text = self._read(path)
        if text is None:
            raise ImportRefused(f"{path}: no such file in the repository at this commit")
        self._cache[path] = text
        return text
