"""runner.git_files against what git itself writes and reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.git_files import add_origin, init_repository
from tests.runner.git_support import git, isolated_home

pytestmark = pytest.mark.usefixtures(isolated_home.__name__)


def tree(top: Path) -> dict[str, tuple[int, bytes]]:
    """Every path under top with its mode and (for files) its content."""
    found: dict[str, tuple[int, bytes]] = {}
    for path in sorted(top.rglob("*")):
        content = path.read_bytes() if path.is_file() else b""
        found[path.relative_to(top).as_posix()] = (path.lstat().st_mode, content)
    return found


def test_init_writes_what_git_init_writes(tmp_path: Path) -> None:
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir()
    theirs.mkdir()
    init_repository(ours, "main")
    git("init", "-q", "--template=", cwd=theirs)
    assert tree(ours) == tree(theirs)


def test_an_initialised_repository_takes_every_later_git_command(tmp_path: Path) -> None:
    dest = tmp_path / "src"
    dest.mkdir()
    init_repository(dest, "main")
    add_origin(dest, "https://example.com/octo/app.git")
    (dest / "README").write_text("hi\n")
    git("add", "README", cwd=dest)
    git("commit", "-qm", "first", cwd=dest)
    git("tag", "-a", "v1", "-m", "one", cwd=dest)
    assert git("fsck", "--strict", cwd=dest) == ""
    assert git("status", "--porcelain", cwd=dest) == ""
    assert git("log", "--format=%s", cwd=dest) == "first"
    assert git("describe", cwd=dest) == "v1"
    assert git("symbolic-ref", "HEAD", cwd=dest) == "refs/heads/main"
    assert git("remote", "get-url", "origin", cwd=dest) == "https://example.com/octo/app.git"
