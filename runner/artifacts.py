"""A finished step's artifacts: the files its `artifacts:` globs and folders match, read from its container
(while it still exists, whatever the step's outcome) and handed one by one to a store — the server for the
runner daemon, a folder for `hangar exec`. The step's log says what was kept, with sizes and times, and
which pattern matched nothing.

Bounded per step: at most `max_files` files and `max_bytes` bytes; what is past a limit is left, with a note.
The container's files come as a tar spooled to disk, and each file is hashed and streamed from there.
"""

from __future__ import annotations

import asyncio
import hashlib
import posixpath
import tarfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, BinaryIO, Protocol

from pipelines.artifact_paths import is_safe_artifact_path
from pipelines.globs import glob_match, literal_root
from pipelines.plan import StepKind, StepPlan
from pipelines.sizes import format_size
from runner.engine import Engine, EngineError

NOTE = "[hangar]"
MAX_FILES = 1_000
MAX_BYTES = 5 * 1024**3
TAR_OVERHEAD = 64 * 1024 * 1024
"""Room for the tar's headers beyond the files' bytes when a folder is read from the container."""
CHUNK = 1024 * 1024

LogWriter = Callable[[list[str]], Awaitable[None]]


class ArtifactNotKept(Exception):
    """The store could not keep a file (the message says why, for the step's log)."""


class ArtifactStore(Protocol):
    """Where a step's artifacts go."""

    async def keep(self, step: int, path: str, content: IO[bytes], size: int, sha256: str) -> None:
        """Keep `content` (seekable: `size` bytes whose SHA-256 is `sha256`) as the build's file `path`;
        ArtifactNotKept when it could not."""


@dataclass(frozen=True)
class ArtifactOptions:
    """Where a stage's artifacts go, and how much one step may keep."""

    store: ArtifactStore
    max_files: int = MAX_FILES
    max_bytes: int = MAX_BYTES


@dataclass
class _Tally:
    """What one step kept so far, and what it said about it."""

    files: int = 0
    size: int = 0
    seen: set[str] = field(default_factory=set)
    matched: dict[str, int] = field(default_factory=dict)
    full: str = ""
    """Why nothing more is kept ('' while under the limits)."""


async def keep_artifacts(
    engine: Engine,
    handle: str | None,
    step: StepPlan,
    workspace: str,
    options: ArtifactOptions | None,
    log: LogWriter,
) -> None:
    """Keep the files of the step's `artifacts:` (a step's container only; `handle` None: it is gone)."""
    if options is None or not step.artifacts or step.kind != StepKind.STEP or step.detach:
        return
    if handle is None:
        await log([f"{NOTE} artifacts not read: the step's container could not be inspected"])
        return
    started = time.monotonic()
    tally = _Tally(matched=dict.fromkeys(step.artifacts, 0))
    for root, patterns in roots(step.artifacts, workspace):
        if tally.full:
            break
        try:
            archive = await engine.archive(handle, root, options.max_bytes + TAR_OVERHEAD)
        except EngineError as exc:
            await log([f"{NOTE} artifacts in {_relative(root, workspace)} were not read: {exc}"])
            continue
        if archive is not None:
            with archive:
                await _keep_from(archive, root, patterns, workspace, step.number, options, tally, log)
    unmatched = [pattern for pattern, count in tally.matched.items() if not count and not tally.full]
    notes = [f"{NOTE} artifacts: {pattern!r} matched no file" for pattern in unmatched]
    if tally.files:
        took = time.monotonic() - started
        notes.append(
            f"{NOTE} artifacts: kept {_files(tally.files)} ({format_size(tally.size)}) in {took:.1f} s"
        )
    await log(notes)


def roots(patterns: list[str], workspace: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The folders (or files) to read from the container, each with its patterns: (as written, absolute)."""
    wanted: dict[str, list[tuple[str, str]]] = {}
    for pattern in patterns:
        absolute = posixpath.normpath(posixpath.join(workspace, pattern))
        wanted.setdefault(literal_root(absolute), []).append((pattern, absolute))
    return list(wanted.items())


def matches(absolute: str, path: str, workspace: str) -> bool:
    """Whether the file at `path` is one the pattern names: itself, or inside a folder it names (within
    the workspace)."""
    inside = workspace.rstrip("/") + "/"
    while path.startswith(inside):
        if glob_match(absolute, path):
            return True
        path = posixpath.dirname(path)
    return False


async def _keep_from(
    archive: BinaryIO,
    root: str,
    patterns: list[tuple[str, str]],
    workspace: str,
    step: int,
    options: ArtifactOptions,
    tally: _Tally,
    log: LogWriter,
) -> None:
    """Keep the archive's files that match, within the limits."""
    parent = posixpath.dirname(root.rstrip("/")) or "/"
    try:
        with tarfile.open(fileobj=archive, mode="r:") as tar:
            for member, path, written in _matching(tar, parent, patterns, workspace, tally):
                for pattern in written:
                    tally.matched[pattern] += 1
                if _over_limit(member.size, options, tally):
                    await log([f"{NOTE} artifacts: {tally.full}; {path} and the files after it are not kept"])
                    return
                content = tar.extractfile(member)
                if content is not None and await _keep_one(
                    content, path, member.size, step, options.store, log
                ):
                    tally.files, tally.size = tally.files + 1, tally.size + member.size
    except tarfile.TarError as exc:
        await log([f"{NOTE} artifacts in {_relative(root, workspace)} were not read: {exc}"])


def _matching(
    tar: tarfile.TarFile, parent: str, patterns: list[tuple[str, str]], workspace: str, tally: _Tally
) -> Iterator[tuple[tarfile.TarInfo, str, list[str]]]:
    """The regular files of the archive that a pattern names, not kept yet: each with its workspace-relative
    path and the patterns (as written) that name it."""
    for member in tar:
        if not member.isfile():
            continue  # links and folders: a link is never followed out of the workspace
        absolute = posixpath.normpath(posixpath.join(parent, member.name))
        path = _relative(absolute, workspace)
        if path in tally.seen or not is_safe_artifact_path(path):
            continue
        written = [pattern for pattern, full in patterns if matches(full, absolute, workspace)]
        if written:
            tally.seen.add(path)
            yield member, path, written


def _over_limit(size: int, options: ArtifactOptions, tally: _Tally) -> bool:
    if tally.files + 1 > options.max_files:
        tally.full = f"the limit of {options.max_files} files per step is reached"
    elif tally.size + size > options.max_bytes:
        tally.full = f"the limit of {format_size(options.max_bytes)} per step is reached"
    return bool(tally.full)


async def _keep_one(
    content: IO[bytes], path: str, size: int, step: int, store: ArtifactStore, log: LogWriter
) -> bool:
    """Hash the file (in a thread: it may be large), hand it to the store and say how that went; whether it
    was kept."""
    started = time.monotonic()
    sha256 = await asyncio.to_thread(file_sha256, content)
    try:
        await store.keep(step, path, content, size, sha256)
    except ArtifactNotKept as exc:
        await log([f"{NOTE} artifact {path} was not kept: {exc}"])
        return False
    took = time.monotonic() - started
    await log([f"{NOTE} artifact {path} ({format_size(size)}) kept in {took:.1f} s"])
    return True


def file_sha256(content: IO[bytes]) -> str:
    """The SHA-256 (hex) of what is left to read of `content`; it is rewound to where it was."""
    start = content.tell()
    digest = hashlib.sha256()
    while chunk := content.read(CHUNK):
        digest.update(chunk)
    content.seek(start)
    return digest.hexdigest()


def _relative(path: str, workspace: str) -> str:
    prefix = workspace.rstrip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else path


def _files(number: int) -> str:
    return "1 file" if number == 1 else f"{number} files"
