"""What the clone would otherwise ask a git process for, done on the repository's files: `git init`,
`git remote add`, and whether the fetch brought the commit itself (whether a commit is stored at all:
pipelines.git_objects). Each writes what git writes (SHA-1 repositories)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

_SHA1_HEX = 40


def init_repository(dest: Path, branch: str) -> None:
    """What `git init --template= dest` writes with `init.defaultBranch=branch`: the folders, HEAD and a
    config whose core section git would have probed the same way (executable bit, symbolic links, case)."""
    git_dir = dest / ".git"
    for folder in ("refs/heads", "refs/tags", "objects/pack", "objects/info"):
        (git_dir / folder).mkdir(parents=True)
    head = git_dir / "HEAD"
    head.write_text(f"ref: refs/heads/{branch}\n", encoding="utf-8")
    core = {
        "repositoryformatversion": "0",
        "filemode": _true_or_false(_keeps_executable_bit(head)),  # git probes its config file: same folder
        "bare": "false",
        "logallrefupdates": "true",
    }
    if not _makes_symbolic_links(git_dir):
        core["symlinks"] = "false"
    if (git_dir / "hEaD").exists():  # git looks for "CoNfIg"
        core["ignorecase"] = "true"
    lines = "".join(f"\t{key} = {value}\n" for key, value in core.items())
    (git_dir / "config").write_text(f"[core]\n{lines}", encoding="utf-8")


def add_origin(dest: Path, url: str) -> None:
    """What `git remote add origin url` writes, without a git process: the remote and its fetch refspec."""
    quoted = url.replace("\\", "\\\\").replace('"', '\\"')
    section = f'[remote "origin"]\n\turl = "{quoted}"\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n'
    with (dest / ".git" / "config").open("a", encoding="utf-8") as config:
        config.write(section)


def fetched_first(dest: Path, sha: str) -> bool:
    """Whether the last fetch brought `sha` itself (FETCH_HEAD's first line)."""
    try:
        with (dest / ".git" / "FETCH_HEAD").open(encoding="ascii", errors="replace") as fetch_head:
            first = fetch_head.readline()
    except OSError:
        return False
    return len(sha) >= _SHA1_HEX and first[:_SHA1_HEX].lower() == sha.lower()[:_SHA1_HEX]


def _keeps_executable_bit(path: Path) -> bool:
    """git init's probe for core.filemode: does flipping the owner's executable bit show in lstat?"""
    before = path.lstat().st_mode
    try:
        os.chmod(path, before ^ stat.S_IXUSR)
        after = path.lstat().st_mode
        os.chmod(path, before)
    except OSError:
        return False
    return after != before


def _makes_symbolic_links(git_dir: Path) -> bool:
    """git init's probe for core.symlinks."""
    probe = git_dir / "tSymLnk"
    try:
        probe.symlink_to("testing")
        linked = stat.S_ISLNK(probe.lstat().st_mode)
        probe.unlink()
    except OSError:
        return False
    return linked


def _true_or_false(value: bool) -> str:
    return "true" if value else "false"
