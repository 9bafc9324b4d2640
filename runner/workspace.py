"""Workspace sources: what the clone step puts in the workspace (a fresh clone, or a local folder)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pipelines.plan import ClonePlan
from runner.archive import copy_files, pack, workspace_files
from runner.executor import LogWriter

if TYPE_CHECKING:
    from runner.clone import Netrc


def cloned_workspace(plan: ClonePlan, netrc: Netrc | None = None) -> ClonedWorkspace:
    """Clone the repository at the exact commit: packed from a temporary folder, or straight into one."""
    return ClonedWorkspace(plan, netrc)


class ClonedWorkspace:
    """A fresh clone at the exact commit, git's lines streamed to the clone step's log."""

    def __init__(self, plan: ClonePlan, netrc: Netrc | None = None) -> None:
        self._plan = plan
        self._netrc = netrc

    async def __call__(self, log: LogWriter) -> BinaryIO:
        """Clone into a temporary folder and pack it (removed after) as a tar for the engine."""

        def clone_and_pack(folder: Path, collect: Callable[[str], None]) -> BinaryIO:
            self._clone(folder / "src", collect)
            return pack(folder / "src")

        forwarder = _LogForwarder(log)
        folder = Path(tempfile.mkdtemp(prefix="hangar-clone-"))
        work = asyncio.ensure_future(asyncio.to_thread(clone_and_pack, folder, forwarder.collect))
        try:
            return await asyncio.shield(work)
        finally:
            await forwarder.close()
            if work.done():
                await asyncio.to_thread(shutil.rmtree, folder, True)
            else:  # cancelled while git still runs in its thread: clean up once it is done
                work.add_done_callback(lambda done: _discard_clone(done, folder))

    async def into(self, folder: Path, log: LogWriter) -> None:
        """Clone straight into the (empty) workspace folder on this host: nothing packed, nothing copied."""
        forwarder = _LogForwarder(log)
        work = asyncio.ensure_future(asyncio.to_thread(self._clone, folder, forwarder.collect))
        try:
            await asyncio.shield(work)  # cancelled: git ends in its thread; the stage's volume goes after
        finally:
            await forwarder.close()

    def _clone(self, dest: Path, log: Callable[[str], None]) -> None:
        from runner.clone import clone_repository  # noqa: PLC0415  (gitpython: only where a clone happens)

        clone_repository(self._plan, dest, log=log, netrc=self._netrc)


class _LogForwarder:
    """Carries lines collected in a worker thread to an async log, in order."""

    def __init__(self, log: LogWriter) -> None:
        self._loop = asyncio.get_running_loop()
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._forward(log))

    def collect(self, line: str) -> None:
        """Queue a line (called from the worker thread)."""
        self._loop.call_soon_threadsafe(self._lines.put_nowait, line)

    async def close(self) -> None:
        """Forward what is queued, then stop."""
        self._loop.call_soon_threadsafe(self._lines.put_nowait, None)
        await self._task

    async def _forward(self, log: LogWriter) -> None:
        while (line := await self._lines.get()) is not None:
            await log(line)


def _discard_clone(work: asyncio.Future[BinaryIO], folder: Path) -> None:
    """Close the archive of a clone nobody waits for any more, and remove its folder."""
    if not work.cancelled() and work.exception() is None:
        work.result().close()
    shutil.rmtree(folder, ignore_errors=True)


def local_workspace(root: Path) -> LocalWorkspace:
    """Copy a local folder's files (in a git work tree: those git does not ignore), as `hangar exec` does."""
    return LocalWorkspace(root)


class LocalWorkspace:
    """A local folder's files: packed for the engine, or copied straight into the workspace's folder."""

    def __init__(self, root: Path) -> None:
        self._root = root

    async def __call__(self, log: LogWriter) -> BinaryIO:
        """A tar of the files."""
        started = time.monotonic()
        files = await asyncio.to_thread(workspace_files, self._root)
        archive = await asyncio.to_thread(pack, self._root, files)
        await self._copied(log, len(files), started)
        return archive

    async def into(self, folder: Path, log: LogWriter) -> None:
        """Copy the files into the (empty) workspace folder on this host."""
        started = time.monotonic()
        files = await asyncio.to_thread(workspace_files, self._root)
        await asyncio.to_thread(copy_files, self._root, files, folder)
        await self._copied(log, len(files), started)

    async def _copied(self, log: LogWriter, count: int, started: float) -> None:
        await log(f"+ copied {count} files from {self._root} ({time.monotonic() - started:.2f}s)")
