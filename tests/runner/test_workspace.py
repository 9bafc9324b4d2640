"""Workspace sources: a clone cancelled midway leaves no temporary folder once git is done."""

from __future__ import annotations

import asyncio
import tarfile
import tempfile
from pathlib import Path

from pipelines.plan import ClonePlan
from runner.workspace import cloned_workspace, local_workspace


def clone_folders() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("hangar-clone-*"))


async def test_a_cancelled_clone_removes_its_folder_when_git_finishes() -> None:
    before = clone_folders()
    plan = ClonePlan(remote_url="http://127.0.0.1:9/unreachable.git", ref="refs/heads/main", retries=2)
    lines: list[str] = []

    async def log(line: str) -> None:
        lines.append(line)

    task = asyncio.ensure_future(cloned_workspace(plan)(log))
    while not lines:
        await asyncio.sleep(0.01)
    assert clone_folders() - before, "the clone works in a temporary folder"
    task.cancel()
    for _ in range(1000):  # git gives up after its retries (0.5 s + 1 s); then the folder goes
        if not clone_folders() - before:
            break
        await asyncio.sleep(0.01)
    assert clone_folders() - before == set()


async def test_a_local_folder_is_packed_with_what_git_would_keep(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('hi')\n")
    lines: list[str] = []

    async def log(line: str) -> None:
        lines.append(line)

    archive = await local_workspace(tmp_path)(log)
    with archive, tarfile.open(fileobj=archive) as tar:
        assert tar.getnames() == ["app.py"]
    assert lines[0].startswith(f"+ copied 1 files from {tmp_path}")
