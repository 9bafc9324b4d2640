"""Workspace sources: what the clone step puts in the workspace (a fresh clone, or a local folder)."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from pipelines.plan import ClonePlan
from runner.archive import pack, workspace_files
from runner.executor import LogWriter, WorkspaceSource

if TYPE_CHECKING:
    from runner.clone import Netrc


def cloned_workspace(plan: ClonePlan, netrc: Netrc | None = None) -> WorkspaceSource:
    """Clone the repository at the exact commit into a temporary folder, stream git's lines, pack it."""

    from runner.clone import clone_repository  # noqa: PLC0415  (gitpython: only where a clone happens)

    async def source(log: LogWriter) -> BinaryIO:
        loop = asyncio.get_running_loop()
        lines: asyncio.Queue[str | None] = asyncio.Queue()

        def collect(line: str) -> None:
            loop.call_soon_threadsafe(lines.put_nowait, line)

        async def forward() -> None:
            while (line := await lines.get()) is not None:
                await log(line)

        def clone_and_pack(folder: Path) -> BinaryIO:
            clone_repository(plan, folder / "src", log=collect, netrc=netrc)
            return pack(folder / "src")

        forwarder = asyncio.create_task(forward())
        folder = Path(tempfile.mkdtemp(prefix="hangar-clone-"))
        work = asyncio.ensure_future(asyncio.to_thread(clone_and_pack, folder))
        try:
            return await asyncio.shield(work)
        finally:
            loop.call_soon_threadsafe(lines.put_nowait, None)
            await forwarder
            if work.done():
                await asyncio.to_thread(shutil.rmtree, folder, True)
            else:  # cancelled while git still runs in its thread: clean up once it is done
                work.add_done_callback(lambda done: _discard_clone(done, folder))

    return source


def _discard_clone(work: asyncio.Future[BinaryIO], folder: Path) -> None:
    """Close the archive of a clone nobody waits for any more, and remove its folder."""
    if not work.cancelled() and work.exception() is None:
        work.result().close()
    shutil.rmtree(folder, ignore_errors=True)


def local_workspace(root: Path) -> WorkspaceSource:
    """Copy a local folder's files (in a git work tree: those git does not ignore), as `hangar exec` does."""

    async def source(log: LogWriter) -> BinaryIO:
        started = time.monotonic()
        files = await asyncio.to_thread(workspace_files, root)
        archive = await asyncio.to_thread(pack, root, files)
        await log(f"+ copied {len(files)} files from {root} ({time.monotonic() - started:.2f}s)")
        return archive

    return source
