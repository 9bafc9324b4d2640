"""One stage's caches: keys from the workspace's files, restore before the first step, save after success.

Nothing here can fail a build: a missing, corrupt or unreachable entry is said in the log and skipped.
"""

from __future__ import annotations

import asyncio
import io
import re
import tarfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pipelines.plan import Plan, StepKind, StepPlan
from pipelines.runner_api import CachePolicy
from pipelines.sizes import format_size
from runner.caches.auto import CACHE_DIR
from runner.caches.bundle import BundleWriter, Segment, read_segment, segments_of
from runner.caches.disk import TEMP_PREFIX
from runner.caches.keys import (
    Checksums,
    WantedCache,
    patterns_for,
    read_checksums,
    read_folder_checksums,
    sets_any,
    wanted_caches,
)
from runner.caches.layered import LayeredStore
from runner.caches.store import CacheCorrupt, StoredEntry
from runner.engine import Engine, FolderArchive, StageSpec

LogWriter = Callable[[str], Awaitable[None]]
_HEX_RUN = re.compile(r"[0-9a-f]{16,}")


@dataclass(frozen=True)
class CacheSetup:
    """What a stage may do with caches (the server's policy), where entries are kept, and a scratch folder
    on the disk store's filesystem for entries being written or read."""

    policy: CachePolicy
    store: LayeredStore
    scratch: Path


class StageCaches:
    """The caches of one stage run."""

    def __init__(self, setup: CacheSetup, plan: Plan) -> None:
        self.setup, self.plan = setup, plan
        self.wanted: list[WantedCache] = []
        self._scanned = False

    @property
    def policy(self) -> CachePolicy:
        """The server's word on this stage's caches."""
        return self.setup.policy

    async def scan(self, archive: BinaryIO | None) -> None:
        """Resolve the keys from the files of the archive that fills the workspace (rewound after)."""
        patterns = patterns_for(self.plan, self.policy.auto)
        try:
            checksums = await asyncio.to_thread(read_checksums, archive, patterns)
        except (OSError, tarfile.TarError) as exc:  # keys from no files: the build still runs
            self.setup.store.notes.append(f"could not read the workspace's files for the keys: {exc}")
            checksums = await asyncio.to_thread(read_checksums, None, patterns)
        self._resolve(checksums)

    async def scan_folder(self, folder: Path) -> None:
        """Resolve the keys from the files of the workspace folder, filled directly on this host."""
        patterns = patterns_for(self.plan, self.policy.auto)
        try:
            checksums = await asyncio.to_thread(read_folder_checksums, folder, patterns)
        except OSError as exc:  # keys from no files: the build still runs
            self.setup.store.notes.append(f"could not read the workspace's files for the keys: {exc}")
            checksums = await asyncio.to_thread(read_checksums, None, patterns)
        self._resolve(checksums)

    def _resolve(self, checksums: Checksums) -> None:
        platform = self.plan.stage.platform
        facts = {"branch": self.policy.branch, "os": platform.os, "arch": platform.arch}
        self.wanted = wanted_caches(self.plan, checksums, facts, auto=self.policy.auto)
        self._scanned = True

    def environment(self, step: StepPlan) -> dict[str, str]:
        """The automatic caches' variables for a step that does not set them itself."""
        if step.kind != StepKind.STEP:
            return {}
        variables: dict[str, str] = {}
        for wanted in self.wanted:
            if wanted.tool is not None and not sets_any(step.environment, step.secrets, wanted.tool):
                variables.update(wanted.tool.environment())
        return variables

    # -- restore ------------------------------------------------------------------------------------

    async def restore(self, engine: Engine, stage: StageSpec, log: LogWriter) -> None:
        """Restore the best entry of each cache into the stage's volumes (one copy), saying what happened."""
        if not self._scanned:
            await self.scan(None)
        tools = [wanted.tool.name for wanted in self.wanted if wanted.tool is not None]
        archives: list[FolderArchive] = [(CACHE_DIR, _once(_folders_tar(tools)))] if tools else []
        fetched: list[tuple[WantedCache, StoredEntry, Path, float]] = []
        branches = [self.policy.branch, *self.policy.fallback_branches]
        try:
            for wanted in self.wanted:
                started = time.monotonic()
                found = await self._fetch(wanted, branches, log)
                if found is not None:
                    entry, local, segments = found
                    fetched.append((wanted, entry, local, time.monotonic() - started))
                    archives += [(s.folder, read_segment(local, s)) for s in segments]
            if archives:
                started = time.monotonic()
                try:
                    await engine.write_paths(stage, archives)
                except Exception as exc:
                    await log(f"[cache] could not restore the caches: {exc or type(exc).__name__}")
                    return
                unpacking = time.monotonic() - started
                for wanted, entry, _, fetching in fetched:
                    await log(self._restored(wanted, entry, fetching + unpacking))
        finally:
            for *_, local, _ in fetched:
                local.unlink(missing_ok=True)
        await self._notes(log)

    async def _fetch(
        self, wanted: WantedCache, branches: list[str], log: LogWriter
    ) -> tuple[StoredEntry, Path, list[Segment]] | None:
        """The best entry of a cache, fetched into the scratch folder and read, or None (said in the log)."""
        key = wanted.key.key
        try:
            entry = await self.setup.store.find(key, wanted.key.prefixes, branches)
        except Exception as exc:
            await log(f"[cache] could not look for {short(key)}: {exc}")
            return None
        if entry is None:
            await log(f"[cache] no cache for {short(key)}")
            return None
        local = self._scratch_file()
        try:
            await self.setup.store.fetch(entry, local)
            return entry, local, await asyncio.to_thread(segments_of, local)
        except CacheCorrupt as exc:
            await log(f"[cache] ignored a corrupt entry: {exc}; the build goes on without it")
        except Exception as exc:
            await log(f"[cache] could not restore {short(entry.key)}: {exc or type(exc).__name__}")
        local.unlink(missing_ok=True)
        return None

    def _restored(self, wanted: WantedCache, entry: StoredEntry, seconds: float) -> str:
        origin = "" if entry.key == wanted.key.key else f" for {short(wanted.key.key)}"
        origin += "" if entry.branch == self.policy.branch else f" from branch {entry.branch}"
        return f"[cache] restored {short(entry.key)}{origin} ({format_size(entry.size)}) in {seconds:.1f} s"

    # -- save ---------------------------------------------------------------------------------------

    async def save(self, engine: Engine, stage: StageSpec, log: LogWriter) -> None:
        """Save each cache whose key is new (only after a successful stage), in one copy out of the stage."""
        if not self.wanted:
            return
        if not self.policy.save:
            await log("[cache] cache not saved: a pull request from a fork may read the cache, not write it")
            return
        branch = self.policy.branch
        new: list[WantedCache] = []
        for wanted in self.wanted:
            if await self.setup.store.has_everywhere(wanted.key.key, branch):
                await log(f"[cache] {short(wanted.key.key)} is already saved")
            else:
                new.append(wanted)
        if new:
            await self._save(engine, stage, new, log)
        await self._notes(log)

    async def _save(self, engine: Engine, stage: StageSpec, new: list[WantedCache], log: LogWriter) -> None:
        started = time.monotonic()
        files = [self._scratch_file() for _ in new]
        outs = [file.open("wb") for file in files]
        writers = [BundleWriter(out) for out in outs]
        owner = {path: writer for wanted, writer in zip(new, writers, strict=True) for path in wanted.paths}

        async def sink(path: str, chunks: AsyncIterator[bytes]) -> None:
            await owner[path].add(path, chunks)

        try:
            try:
                await engine.read_paths(stage, list(owner), sink)
                checksums = [writer.finish() for writer in writers]
            finally:
                for out in outs:
                    out.close()
        except Exception as exc:
            await log(f"[cache] could not save the caches: {exc or type(exc).__name__}")
            for file in files:
                file.unlink(missing_ok=True)
            return
        reading = time.monotonic() - started
        for wanted, writer, file, sha256 in zip(new, writers, files, checksums, strict=True):
            await self._keep(wanted, writer, file, sha256, reading, log)
            file.unlink(missing_ok=True)

    async def _keep(
        self,
        wanted: WantedCache,
        writer: BundleWriter,
        file: Path,
        sha256: str,
        reading: float,
        log: LogWriter,
    ) -> None:
        key = wanted.key.key
        if not writer.segments:
            await log(f"[cache] nothing to save for {short(key)}: no {', '.join(wanted.paths)}")
            return
        started = time.monotonic()
        try:
            kept = await self.setup.store.keep(key, self.policy.branch, file, sha256)
        except Exception as exc:
            await log(f"[cache] could not save {short(key)}: {exc or type(exc).__name__}")
            return
        if kept is None:
            await log(f"[cache] {short(key)} was not saved (already there, or no store took it)")
            return
        elapsed = reading + time.monotonic() - started
        await log(f"[cache] saved {short(key)} ({format_size(file.stat().st_size)}) in {elapsed:.1f} s")

    # -- helpers ------------------------------------------------------------------------------------

    def _scratch_file(self) -> Path:
        self.setup.scratch.mkdir(parents=True, exist_ok=True)
        return self.setup.scratch / f"{TEMP_PREFIX}{time.time_ns()}-{id(self)}"

    async def _notes(self, log: LogWriter) -> None:
        notes, self.setup.store.notes[:] = list(self.setup.store.notes), []
        for note in dict.fromkeys(notes):
            await log(f"[cache] {note}")


def short(key: str) -> str:
    """A key for the log: long checksums cut to their first 8 characters."""
    return _HEX_RUN.sub(lambda match: match.group(0)[:8] + "…", key)


def _folders_tar(names: list[str]) -> bytes:
    """A tar of empty folders anyone may write to (a step may run as any user)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in names:
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o777, int(time.time())
            tar.addfile(info)
    return buffer.getvalue()


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data
