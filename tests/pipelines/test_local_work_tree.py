"""The work tree `hangar exec`, `lint` and `compile` read git facts from: found as gitpython finds it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pipelines.local import work_tree


def _repository(folder: Path) -> Path:
    subprocess.run(["git", "init", "-q", "-b", "trunk", str(folder)], check=True)
    return folder


def test_outside_git_the_folder_is_its_own_work_tree(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    assert work_tree(folder).root == folder
    assert work_tree(folder).branch == ""


def test_a_sub_folder_of_a_repository_finds_it(tmp_path: Path) -> None:
    root = _repository(tmp_path / "repo")
    (root / "ci" / "deep").mkdir(parents=True)
    tree = work_tree(root / "ci" / "deep")
    assert (tree.root, tree.branch) == (root, "trunk")


def test_a_git_worktree_whose_git_is_a_file_is_found(tmp_path: Path) -> None:
    root = _repository(tmp_path / "repo")
    subprocess.run(
        [
            "git",
            "-C",
            str(root),
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "first",
        ],
        check=True,
    )
    other = tmp_path / "other"
    subprocess.run(["git", "-C", str(root), "worktree", "add", "-q", "-b", "side", str(other)], check=True)
    tree = work_tree(other)
    assert (tree.branch, tree.message) == ("side", "first")
