"""Tar a folder (or chosen files in it) for the Docker Engine API's put_archive."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import BinaryIO


def workspace_files(root: Path) -> list[str]:
    """Paths `hangar exec` copies: in a git work tree, tracked, unignored and .git files; else every file."""
    listed = _git_files(root)
    if listed is None:
        return sorted(_walk(root, ""))
    paths: dict[str, None] = {}
    for entry in listed:
        rel = entry.rstrip("/")
        full = root / rel
        if full.is_dir() and not full.is_symlink():  # a submodule or a nested repository: all of it
            paths.update(dict.fromkeys(_walk(root, rel)))
        elif os.path.lexists(full):  # tracked files deleted from the work tree are skipped
            paths[rel] = None
    if (root / ".git").is_dir():
        paths.update(dict.fromkeys(_walk(root, ".git")))
    elif (root / ".git").is_file():  # a worktree's or submodule's pointer file
        paths[".git"] = None
    return sorted(paths)


def pack(root: Path, paths: Iterable[str] | None = None) -> BinaryIO:
    """An uncompressed tar of root (or of given relative paths) in a rewound temp file the caller closes."""
    base = root.resolve(strict=True)
    if not base.is_dir():
        raise NotADirectoryError(f"not a folder: {root}")
    names = list(_walk(base, "", dirs=True)) if paths is None else [_checked(base, p) for p in paths]
    out = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the caller, who closes it
    try:
        with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
            written: set[str] = set()
            for name in names:
                for parent in reversed(PurePosixPath(name).parents[:-1]):
                    _add(tar, base, str(parent), written, recurse=False)
                _add(tar, base, name, written, recurse=paths is not None)
        out.seek(0)
    except BaseException:
        out.close()
        raise
    return out


def copy_files(root: Path, paths: Iterable[str], dest: Path) -> None:
    """Copy the relative paths of root into dest as `pack` would carry them: folders made, links kept as
    links, special files skipped (what a tar of them, unpacked, gives, without the tar)."""
    base = root.resolve(strict=True)
    for name in paths:
        relative = _checked(base, name)
        source, target = base / relative, dest / relative
        mode = source.lstat().st_mode
        if stat.S_ISDIR(mode):
            target.mkdir(parents=True, exist_ok=True)
            shutil.copystat(source, target)
        elif stat.S_ISREG(mode) or stat.S_ISLNK(mode):
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)


def _git_files(root: Path) -> list[str] | None:
    """What git lists under root (tracked, then untracked but not ignored); None outside a work tree."""
    command = ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    try:
        inside = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"],
            capture_output=True,
            text=True,
            check=False,
        )
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return None
        listed = subprocess.run(command, capture_output=True, check=True)
    except FileNotFoundError:  # no git: copy everything
        return None
    return [p for p in dict.fromkeys(listed.stdout.decode("utf-8", "surrogateescape").split("\0")) if p]


def _walk(root: Path, rel: str, *, dirs: bool = False) -> Iterator[str]:
    """Every file and symlink under root/rel (and every folder with dirs, else only empty ones)."""
    top = root / rel if rel else root
    if rel and (top.is_symlink() or not top.is_dir()):
        yield rel
        return
    for current, subdirs, files in os.walk(top):
        subdirs.sort()
        here = Path(current).relative_to(root).as_posix()
        prefix = "" if here == "." else f"{here}/"
        if here != "." and (dirs or not (subdirs or files)):
            yield here
        for name in sorted(files + [d for d in subdirs if os.path.islink(os.path.join(current, d))]):
            mode = os.lstat(os.path.join(current, name)).st_mode
            if stat.S_ISREG(mode) or stat.S_ISLNK(mode):  # sockets, fifos and devices are not copied
                yield prefix + name
        subdirs[:] = [d for d in subdirs if not os.path.islink(os.path.join(current, d))]


def _checked(base: Path, rel: str) -> str:
    """rel made canonical; ValueError when it is absolute, climbs with `..` or passes a symlinked folder."""
    path = PurePosixPath(rel)
    if not rel or path.is_absolute() or ".." in path.parts or str(path) == ".":
        raise ValueError(f"not a relative path inside the folder: {rel!r}")
    parent = (base / path).parent
    real = parent.resolve()
    if real != parent:  # a symlinked folder on the way: its entries would be written through the link
        where = "outside" if not real.is_relative_to(base) else "elsewhere in"
        raise ValueError(f"{rel!r} goes through a symlink to {where} the folder")
    return str(path)


def _add(tar: tarfile.TarFile, base: Path, name: str, written: set[str], *, recurse: bool) -> None:
    """Add base/name (with recurse, all under a folder) unless already there; special files are skipped."""
    if name in written:
        return
    full = base / name
    mode = full.lstat().st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode) or stat.S_ISLNK(mode)):
        return  # sockets, fifos, devices
    info = tar.gettarinfo(str(full), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    written.add(name)
    if info.isreg():
        with full.open("rb") as data:
            tar.addfile(info, data)
    else:
        tar.addfile(info)
    if recurse and info.isdir():
        for child in _walk(base, name, dirs=True):
            for parent in reversed(PurePosixPath(child).parents[:-1]):
                _add(tar, base, str(parent), written, recurse=False)
            _add(tar, base, child, written, recurse=False)
