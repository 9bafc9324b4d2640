"""The repository mirror: a push's commit is fetched and its files read; a commit already there needs no
forge; an unknown one is a clear error."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import git as git_library
import pytest

from server.mirror import Mirror, MirrorError


def git(folder: Path, *args: str) -> str:
    """Run git in folder; its output."""
    done = subprocess.run(
        ["git", "-C", str(folder), "-c", "user.email=dev@example.com", "-c", "user.name=Dev", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def commit(folder: Path, files: dict[str, bytes]) -> str:
    """Write files, commit them; the commit's sha."""
    for name, data in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    git(folder, "add", "-A")
    git(folder, "commit", "-qm", "change")
    return git(folder, "rev-parse", "HEAD")


@pytest.fixture
def forge(tmp_path: Path) -> Path:
    """A repository to fetch from (a path is a clone URL)."""
    folder = tmp_path / "forge"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    return folder


async def test_a_push_s_commit_is_fetched_and_its_files_read(forge: Path, tmp_path: Path) -> None:
    first = commit(forge, {".ci.yml": b"kind: pipeline\n", "src/app.py": b"print()\n"})
    second = commit(forge, {"src/app.py": b"print(1)\n", "café.txt": b"\xff\xfe not utf-8"})
    mirror = Mirror(tmp_path / "mirror.git", str(forge))
    mirror.fetch("refs/heads/main", second)
    assert mirror.read_file(second, ".ci.yml") == "kind: pipeline\n"
    assert mirror.read_file(second, "src/app.py") == "print(1)\n"
    assert mirror.read_file(first, "src/app.py") == "print()\n"
    assert mirror.read_file(second, "café.txt") == "\ufffd\ufffd not utf-8"
    assert mirror.read_file(second, ".drone.yml") is None
    assert mirror.read_file(second, "src") is None  # a folder, not a file
    assert mirror.list_folder(second, "src") == ["app.py"]
    assert mirror.changed_files(first, second) == ["café.txt", "src/app.py"]
    assert mirror.changed_files("0" * 40, second) == ["café.txt", "src/app.py"]  # a new branch
    assert mirror.changed_files("f" * 40, first) == [".ci.yml", "src/app.py"]  # `before` never seen


async def test_a_commit_already_in_the_mirror_needs_no_forge(forge: Path, tmp_path: Path) -> None:
    old = commit(forge, {"a.txt": b"a"})
    new = commit(forge, {"a.txt": b"b"})
    mirror = Mirror(tmp_path / "mirror.git", str(forge))
    mirror.fetch("refs/heads/main", new)
    git(forge, "branch", "-q", "old", old)
    mirror.fetch("refs/heads/old", old)
    shutil.rmtree(forge)  # the forge is away
    mirror.fetch("refs/heads/main", new)  # the mirror's ref names it
    mirror.fetch("refs/heads/main", old)  # here, though its ref names another commit
    assert mirror.read_file(old, "a.txt") == "a"
    with pytest.raises(MirrorError, match="cannot fetch"):
        mirror.fetch("refs/heads/main", "1" * 40)


async def test_the_commits_of_a_burst_of_pushes_are_fetched_once(
    forge: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shas = [commit(forge, {"a.txt": str(n).encode()}) for n in range(3)]
    mirror = Mirror(tmp_path / "mirror.git", str(forge))
    fetches: list[tuple[str, ...]] = []
    execute = git_library.cmd.Git.execute

    def counted(self: git_library.cmd.Git, command: Any, *args: Any, **kwargs: Any) -> Any:
        if "fetch" in command:
            fetches.append(tuple(command))
        return execute(self, command, *args, **kwargs)

    monkeypatch.setattr(git_library.cmd.Git, "execute", counted)
    for sha in shas:  # their hooks came after the three pushes: the first fetch brings them all
        mirror.fetch("refs/heads/main", sha)
        assert mirror.read_file(sha, "a.txt") == str(shas.index(sha))
    git(tmp_path / "mirror.git", "repack", "-adq")  # as a fetch of many objects leaves them: in a pack
    for sha in shas:
        mirror.fetch("refs/heads/main", sha)
    assert len(fetches) == 1
    with pytest.raises(MirrorError, match="cannot fetch"):  # one that is not here is still fetched
        mirror.fetch("refs/heads/main", "1" * 40)


async def test_a_commit_the_forge_does_not_have_is_a_clear_error(forge: Path, tmp_path: Path) -> None:
    commit(forge, {"a.txt": b"a"})
    mirror = Mirror(tmp_path / "mirror.git", str(forge))
    with pytest.raises(MirrorError, match=r"cannot fetch|has no commit"):
        mirror.fetch("refs/heads/main", "2" * 40)
