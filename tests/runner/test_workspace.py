"""Workspace sources: a clone cancelled midway leaves no temporary folder once git is done."""

from __future__ import annotations

import asyncio
import os
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


async def test_a_local_folder_copied_straight_into_a_folder_holds_what_its_tar_holds(tmp_path: Path) -> None:
    root, dest, unpacked = tmp_path / "root", tmp_path / "dest", tmp_path / "unpacked"
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "mod.py").write_text("x = 1\n")
    (root / "run.sh").write_text("#!/bin/sh\n")
    (root / "run.sh").chmod(0o755)
    (root / "latest").symlink_to("src/pkg/mod.py")
    os.mkfifo(root / "pipe")  # a special file: neither packed nor copied
    dest.mkdir()
    lines: list[str] = []

    async def log(line: str) -> None:
        lines.append(line)

    source = local_workspace(root)
    await source.into(dest, log)
    with await source(log) as archive, tarfile.open(fileobj=archive) as tar:
        tar.extractall(unpacked, filter="fully_trusted")
    assert (
        listing(dest)
        == listing(unpacked)
        == {
            "latest": "link src/pkg/mod.py",
            "run.sh": "file 755",
            "src": "dir",
            "src/pkg": "dir",
            "src/pkg/mod.py": "file 644",
        }
    )
    assert lines[0].startswith(f"+ copied 3 files from {root}")


def listing(folder: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        name = path.relative_to(folder).as_posix()
        if path.is_symlink():
            found[name] = f"link {os.readlink(path)}"
        elif path.is_dir():
            found[name] = "dir"
        else:
            found[name] = f"file {path.stat().st_mode & 0o777:o}"
    return found
