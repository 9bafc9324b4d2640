"""pack and workspace_files on real folders and real git work trees."""

from __future__ import annotations

import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from runner.archive import pack, workspace_files


def git(*args: str, cwd: Path) -> str:
    """Run git in cwd with a throwaway identity, returning its stdout."""
    identity = {
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@e",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@e",
    }
    done = subprocess.run(
        ["git", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false", *args],
        cwd=cwd,
        env=os.environ | identity | {"GIT_CONFIG_NOSYSTEM": "1", "HOME": str(cwd)},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """src/app.py, an executable bin/run.sh, a symlink, an empty folder, nested folders and a fifo."""
    root = tmp_path / "tree"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("print('hi')\n")
    (root / "bin").mkdir()
    (root / "bin" / "run.sh").write_text("#!/bin/sh\necho hi\n")
    (root / "bin" / "run.sh").chmod(0o755)
    (root / "link").symlink_to("src/app.py")
    (root / "src-link").symlink_to("src")
    (root / "empty").mkdir()
    (root / "a" / "b" / "c").mkdir(parents=True)
    (root / "a" / "b" / "c" / "deep.txt").write_text("deep\n")
    os.mkfifo(root / "pipe")
    return root


def members(root: Path, paths: list[str] | None = None) -> dict[str, tarfile.TarInfo]:
    """The packed tar's entries by name."""
    with pack(root, paths) as packed, tarfile.open(fileobj=packed) as tar:
        return {m.name: m for m in tar.getmembers()}


def test_pack_the_whole_tree(tree: Path) -> None:
    with pack(tree) as packed:
        assert packed.tell() == 0
        with tarfile.open(fileobj=packed) as tar:
            entries = {m.name: m for m in tar.getmembers()}
            app = tar.extractfile("src/app.py")
            assert app is not None
            assert app.read() == b"print('hi')\n"
    assert set(entries) == {
        "a",
        "a/b",
        "a/b/c",
        "a/b/c/deep.txt",
        "bin",
        "bin/run.sh",
        "empty",
        "link",
        "src",
        "src-link",
        "src/app.py",
    }
    assert entries["bin/run.sh"].mode == 0o755
    assert entries["src/app.py"].mode & 0o111 == 0
    assert entries["link"].issym() and entries["link"].linkname == "src/app.py"
    assert entries["src-link"].issym() and entries["src-link"].linkname == "src"
    assert entries["empty"].isdir()
    assert all(m.uid == 0 and m.gid == 0 for m in entries.values())
    names = list(entries)
    assert names.index("a") < names.index("a/b") < names.index("a/b/c/deep.txt")


def test_pack_chosen_paths_brings_their_folders(tree: Path) -> None:
    entries = members(tree, ["a/b/c/deep.txt", "./link", "bin", "pipe"])
    assert list(entries) == ["a", "a/b", "a/b/c", "a/b/c/deep.txt", "link", "bin", "bin/run.sh"]
    assert entries["link"].issym()


@pytest.mark.parametrize("path", ["../outside.txt", "a/../../outside.txt", "/etc/passwd", "", "."])
def test_pack_refuses_paths_out_of_the_folder(tree: Path, path: str) -> None:
    with pytest.raises(ValueError, match="not a relative path inside the folder"):
        pack(tree, [path])


def test_pack_refuses_paths_through_a_symlink_out_of_the_folder(tree: Path, tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.txt").write_text("secret\n")
    (tree / "out").symlink_to(tmp_path / "outside")
    with pytest.raises(ValueError, match="goes through a symlink to outside the folder"):
        pack(tree, ["out/secret.txt"])
    with pytest.raises(ValueError, match="goes through a symlink"):
        pack(tree, ["src-link/app.py"])
    assert members(tree, ["out"])["out"].issym()  # the link itself is fine


@pytest.fixture
def work_tree(tmp_path: Path) -> Path:
    """A git work tree with tracked, untracked, ignored and deleted files."""
    root = tmp_path / "repo"
    root.mkdir()
    git("init", "-q", cwd=root)
    (root / ".gitignore").write_text("*.log\nbuild/\n")
    (root / "tracked.txt").write_text("tracked\n")
    (root / "gone.txt").write_text("soon deleted\n")
    (root / "src").mkdir()
    (root / "src" / "main.py").write_text("main\n")
    git("add", ".", cwd=root)
    git("commit", "-qm", "first", cwd=root)
    (root / "gone.txt").unlink()
    (root / "new.txt").write_text("untracked\n")
    (root / "debug.log").write_text("ignored\n")
    (root / "build").mkdir()
    (root / "build" / "out.bin").write_text("ignored\n")
    return root


def test_workspace_files_in_a_work_tree(work_tree: Path) -> None:
    files = workspace_files(work_tree)
    plain = {f for f in files if not f.startswith(".git/")}
    assert plain == {".gitignore", "tracked.txt", "src/main.py", "new.txt"}
    assert {".git/HEAD", ".git/config", ".git/index"} <= set(files)
    assert len(files) == len(set(files))


def test_workspace_files_round_trip_is_a_working_repository(work_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pack(work_tree, workspace_files(work_tree)) as packed, tarfile.open(fileobj=packed) as tar:
        tar.extractall(out, filter="tar")
    assert git("rev-parse", "HEAD", cwd=out) == git("rev-parse", "HEAD", cwd=work_tree)
    assert git("status", "--porcelain", cwd=out) == git("status", "--porcelain", cwd=work_tree)
    assert not (out / "debug.log").exists()


def test_workspace_files_outside_git_is_everything(tree: Path) -> None:
    files = workspace_files(tree)
    assert set(files) == {"a/b/c/deep.txt", "bin/run.sh", "empty", "link", "src-link", "src/app.py"}
