"""pipelines.git_objects against repositories git itself wrote: loose and packed objects."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.git_objects import has_commit, has_object
from tests.runner.git_support import git, isolated_home

pytestmark = pytest.mark.usefixtures(isolated_home.__name__)


def objects_of(repository: Path) -> Path:
    """The repository's objects folder."""
    return repository / ".git" / "objects"


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
    assert has_commit(objects_of(repository), commit)
    assert has_commit(objects_of(repository), commit.upper())
    assert not has_commit(objects_of(repository), git("rev-parse", "HEAD^{tree}", cwd=repository))
    assert not has_commit(objects_of(repository), git("rev-parse", "HEAD:README", cwd=repository))


def test_a_packed_commit_is_found_and_absent_or_abbreviated_shas_are_left_to_git(repository: Path) -> None:
    first, second = git("rev-parse", "HEAD~1", "HEAD", cwd=repository).split()
    git("repack", "-adq", cwd=repository)
    assert not list((repository / ".git" / "objects").glob("??/*"))
    assert has_commit(objects_of(repository), first)
    assert has_commit(objects_of(repository), second)
    assert not has_commit(objects_of(repository), git("rev-parse", "HEAD^{tree}", cwd=repository))
    assert not has_commit(objects_of(repository), "0" * 40)
    assert not has_commit(objects_of(repository), "f" * 40)
    assert not has_commit(objects_of(repository), second[:12])
    assert not has_commit(objects_of(repository), "z" * 40)


def test_any_stored_object_is_found_loose_or_packed_and_nothing_else(repository: Path) -> None:
    tree = git("rev-parse", "HEAD^{tree}", cwd=repository)
    assert has_object(objects_of(repository), tree)
    git("repack", "-adq", cwd=repository)
    assert has_object(objects_of(repository), tree)
    assert has_object(objects_of(repository), git("rev-parse", "HEAD~1", cwd=repository))
    assert not has_object(objects_of(repository), "0" * 40)
    assert not has_object(objects_of(repository), tree[:12])
    assert not has_object(objects_of(repository) / "missing", tree)
