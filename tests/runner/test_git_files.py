"""runner.git_files against what git itself writes and reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.git_files import add_origin, commit_on_disk, init_repository
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


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A repository with two commits, its objects loose."""
    dest = tmp_path / "repo"
    dest.mkdir()
    git("init", "-q", cwd=dest)
    for text in ("one\n", "two\n"):
        (dest / "README").write_text(text)
        git("add", "README", cwd=dest)
        git("commit", "-qm", text.strip(), cwd=dest)
    return dest


def test_a_loose_commit_is_found_and_other_objects_are_not_commits(repository: Path) -> None:
    commit = git("rev-parse", "HEAD", cwd=repository)
    assert commit_on_disk(repository, commit)
    assert commit_on_disk(repository, commit.upper())
    assert not commit_on_disk(repository, git("rev-parse", "HEAD^{tree}", cwd=repository))
    assert not commit_on_disk(repository, git("rev-parse", "HEAD:README", cwd=repository))


def test_a_packed_commit_is_found_and_absent_or_abbreviated_shas_are_left_to_git(repository: Path) -> None:
    first, second = git("rev-parse", "HEAD~1", "HEAD", cwd=repository).split()
    git("repack", "-adq", cwd=repository)
    assert not list((repository / ".git" / "objects").glob("??/*"))
    assert commit_on_disk(repository, first)
    assert commit_on_disk(repository, second)
    assert not commit_on_disk(repository, git("rev-parse", "HEAD^{tree}", cwd=repository))
    assert not commit_on_disk(repository, "0" * 40)
    assert not commit_on_disk(repository, "f" * 40)
    assert not commit_on_disk(repository, second[:12])
    assert not commit_on_disk(repository, "z" * 40)
