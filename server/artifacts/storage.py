"""Where artifacts' bytes are kept: behind a small interface (`ArtifactStorage`), so a store named by a URL
(an S3-compatible bucket) can take the folder's place; today the data folder's `artifacts/`.

An upload is streamed to a temporary file (`.incoming/`), hashed while written, and moved into place only
once it is whole and its checksum matches: a cut or wrong upload leaves nothing behind. Files are laid out as
`<repo id>/<build id>/<random>-<name>`, each upload its own file (a replaced one is removed once its row is).
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from starlette.responses import FileResponse, Response

from server.settings import Settings

INCOMING = ".incoming"
ORPHAN_SECONDS = 3600.0
"""Age past which a file no row names (a server stopped between the move and the commit) is removed."""
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class UploadRefused(Exception):
    """The upload was not kept: its body ended early or its checksum did not match (the message says)."""


@dataclass(frozen=True)
class StoredFile:
    """An upload kept whole: where it is, its size and SHA-256."""

    location: str
    size: int
    sha256: str


class ArtifactStorage(Protocol):
    """Keeps artifacts' bytes: saved from a stream, served, removed."""

    async def save(
        self, folder: str, name: str, chunks: AsyncIterator[bytes], sha256: str, size: int | None
    ) -> StoredFile:
        """Keep the stream as a new file under `folder` (`<repo>/<build>`) once whole: UploadRefused when
        it is not `size` bytes (if given) of SHA-256 `sha256`, and then nothing is kept."""

    def response(self, location: str, filename: str, headers: dict[str, str]) -> Response | None:
        """The file as a download (streamed), None when it is gone."""

    async def remove(self, locations: Iterable[str]) -> None:
        """Remove these files (those already gone are no error)."""

    async def sweep(self, repo_ids: set[int], locations: set[str]) -> int:
        """Remove what no row names any more: folders of repositories not in `repo_ids`, files not in
        `locations` older than ORPHAN_SECONDS, uploads cut off long ago; how many files went."""


def artifact_storage(settings: Settings) -> ArtifactStorage:
    """The server's artifact storage (the data folder's `artifacts/`)."""
    return FolderStorage(settings.data / "artifacts")


class FolderStorage:
    """Artifacts in a folder of the server's disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    async def save(
        self, folder: str, name: str, chunks: AsyncIterator[bytes], sha256: str, size: int | None
    ) -> StoredFile:
        """Stream to `.incoming/`, hashing; moved under `folder` when whole and matching."""
        incoming = self.root / INCOMING
        incoming.mkdir(parents=True, exist_ok=True)
        temporary = incoming / secrets.token_hex(16)
        digest, written = hashlib.sha256(), 0
        try:
            with temporary.open("wb") as out:
                async for chunk in chunks:
                    out.write(chunk)
                    digest.update(chunk)
                    written += len(chunk)
            if size is not None and written != size:
                raise UploadRefused(f"the body ended after {written} of {size} bytes: nothing was kept")
            if digest.hexdigest() != sha256.lower():
                raise UploadRefused(
                    f"the checksum does not match (got {digest.hexdigest()}): nothing was kept"
                )
            location = f"{folder}/{secrets.token_hex(8)}-{_safe_name(name)}"
            target = self._path(location)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(temporary, target)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return StoredFile(location, written, digest.hexdigest())

    def response(self, location: str, filename: str, headers: dict[str, str]) -> Response | None:
        """A streamed FileResponse, None when the file is gone."""
        path = self._path(location)
        if not path.is_file():
            return None
        return FileResponse(path, filename=filename, headers=headers, media_type=media_type(filename))

    async def remove(self, locations: Iterable[str]) -> None:
        """Unlink each file."""
        for location in locations:
            self._path(location).unlink(missing_ok=True)

    async def sweep(self, repo_ids: set[int], locations: set[str]) -> int:
        """Remove folders of deleted repositories, files without a row, and old cut-off uploads."""
        if not self.root.is_dir():
            return 0
        removed, old = 0, time.time() - ORPHAN_SECONDS
        for entry in self.root.iterdir():
            if entry.name == INCOMING:
                removed += _remove_older(entry.iterdir(), old)
            elif entry.is_dir() and not (entry.name.isdigit() and int(entry.name) in repo_ids):
                removed += sum(1 for item in entry.rglob("*") if item.is_file())
                shutil.rmtree(entry, ignore_errors=True)
            elif entry.is_dir():
                files = (item for item in entry.rglob("*") if item.is_file())
                removed += _remove_older((f for f in files if self._location(f) not in locations), old)
        return removed

    def _path(self, location: str) -> Path:
        path = (self.root / location).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"{location!r} is outside the artifacts folder")
        return path

    def _location(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()


def media_type(filename: str) -> str:
    """The content type a file's name says (a compressed file as what it is: `.tar.gz` is gzip), else
    `application/octet-stream`."""
    guessed, encoding = mimetypes.guess_type(filename, strict=False)
    if encoding:
        return {"gzip": "application/gzip", "bzip2": "application/x-bzip2", "xz": "application/x-xz"}.get(
            encoding, "application/octet-stream"
        )
    return guessed or "application/octet-stream"


def _safe_name(name: str) -> str:
    """A file name's harmless form, for the file on disk (the row keeps the real path)."""
    return _UNSAFE.sub("_", name.rsplit("/", 1)[-1])[-100:] or "file"


def _remove_older(paths: Iterable[Path], before: float) -> int:
    removed = 0
    for path in paths:
        try:
            if path.is_file() and path.stat().st_mtime < before:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed
