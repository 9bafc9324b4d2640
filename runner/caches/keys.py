"""A stage's caches with their keys resolved: the `cache:` items of its Plan and the automatic ones.

Checksums are read from the archive that fills the workspace (the clone or `hangar exec`'s folder) before
it is unpacked: only the files a template or a lockfile pattern names are read.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import stat
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

from pipelines.cache_template import ResolvedKey, patterns_of, resolve
from pipelines.globs import glob_match
from pipelines.plan import Plan, StepKind
from runner.caches.auto import TOOLS, Tool


@dataclass(frozen=True)
class WantedCache:
    """One entry the stage restores and saves: its key and the absolute paths it keeps."""

    key: ResolvedKey
    paths: tuple[str, ...]
    tool: Tool | None = None


@dataclass
class Checksums:
    """SHA-256 of the workspace's files that some pattern names, by workspace-relative path."""

    files: dict[str, str] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)
    """Patterns that matched no file (their checksum is that of nothing)."""

    def matching(self, pattern: str) -> list[str]:
        """The paths a glob (or plain name) matches, sorted."""
        return sorted(path for path in self.files if glob_match(pattern, path))

    def of(self, pattern: str) -> str:
        """One checksum over the matching files' sorted paths and contents."""
        matches = self.matching(pattern)
        if not matches and pattern not in self.unmatched:
            self.unmatched.append(pattern)
        digest = hashlib.sha256()
        for path in matches:
            digest.update(f"{path}\0{self.files[path]}\n".encode())
        return digest.hexdigest()


def read_checksums(archive: BinaryIO | None, patterns: Iterable[str]) -> Checksums:
    """Hash the archive's regular files that a pattern matches; the archive is rewound afterwards."""
    wanted = list(dict.fromkeys(patterns))
    checksums = Checksums()
    if archive is None or not wanted:
        return checksums
    try:
        with tarfile.open(fileobj=archive, mode="r:") as tar:
            for member in tar:
                name = posixpath.normpath(member.name).removeprefix("./")
                if member.isreg() and any(glob_match(pattern, name) for pattern in wanted):
                    data = tar.extractfile(member)
                    if data is not None:
                        checksums.files[name] = _sha256(data)
    finally:
        archive.seek(0)
    return checksums


def read_folder_checksums(folder: Path, patterns: Iterable[str]) -> Checksums:
    """Hash the folder's regular files (symbolic links not followed) that a pattern matches, as in a tar."""
    wanted = list(dict.fromkeys(patterns))
    checksums = Checksums()
    if not wanted:
        return checksums
    for parent, folders, files in os.walk(folder):
        folders.sort()
        base = Path(parent)
        for file in sorted(files):
            path = base / file
            name = path.relative_to(folder).as_posix()
            if any(glob_match(pattern, name) for pattern in wanted) and stat.S_ISREG(path.lstat().st_mode):
                with path.open("rb") as data:
                    checksums.files[name] = _sha256(data)
    return checksums


def _sha256(data: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := data.read(1024 * 1024):
        digest.update(chunk)
    return digest.hexdigest()


def patterns_for(plan: Plan, auto: bool) -> list[str]:
    """Every glob whose files the stage's keys need (its templates', and the lockfiles when `auto`)."""
    patterns = [pattern for item in plan.caches for pattern in patterns_of(item.key)]
    if auto:
        patterns += [pattern for tool in TOOLS for pattern in tool.patterns]
    return patterns


def wanted_caches(
    plan: Plan, checksums: Checksums, facts: Mapping[str, str], *, auto: bool
) -> list[WantedCache]:
    """The stage's caches: its `cache:` items, then one per recognised tool that some step leaves to us."""
    workspace = plan.workspace.full.rstrip("/")
    wanted = [
        WantedCache(
            resolve(item.key, facts, checksums.of),
            tuple(posixpath.normpath(f"{workspace}/{path}") for path in item.paths),
        )
        for item in plan.caches
    ]
    if auto:
        for tool in TOOLS:
            lockfiles = [path for pattern in tool.patterns for path in checksums.matching(pattern)]
            if lockfiles and tool_users(plan, tool):
                digest = hashlib.sha256()
                for path in sorted(set(lockfiles)):
                    digest.update(f"{path}\0{checksums.files[path]}\n".encode())
                prefix = f"auto-{tool.name}-"
                key = ResolvedKey(prefix + digest.hexdigest(), (prefix,))
                wanted.append(WantedCache(key, (tool.folder,), tool))
    return wanted


def tool_users(plan: Plan, tool: Tool) -> list[str]:
    """The steps that get the tool's variables: those that set none of them themselves."""
    return [
        step.name
        for step in plan.steps
        if step.kind == StepKind.STEP and not sets_any(step.environment, step.secrets, tool)
    ]


def sets_any(environment: Mapping[str, str], secrets: Iterable[object], tool: Tool) -> bool:
    """Whether a step sets one of the tool's variables (plainly or from a secret)."""
    names = {getattr(secret, "env", "") for secret in secrets} | set(environment)
    return any(name in names for name in tool.variables)
