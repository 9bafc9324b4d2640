"""What the clone would otherwise ask a git process for, done on the repository's files: `git init`,
`git remote add`, and whether a fetched commit is there. Each writes what git writes (SHA-1 repositories), or
reads only formats git has kept since 2007 (loose objects, pack index version 2); a look-up that cannot tell
says so, and the clone asks git."""

from __future__ import annotations

import mmap
import os
import stat
import zlib
from pathlib import Path

_SHA1_HEX = 40
_SHA1_BYTES = 20
_IDX_MAGIC = b"\377tOc\0\0\0\2"  # pack index version 2
_FANOUT_AT = len(_IDX_MAGIC)
_NAMES_AT = _FANOUT_AT + 256 * 4
_LARGE_OFFSET = 0x80000000
_OBJ_COMMIT = 1  # the type in a pack entry's first byte (bits 4-6)


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


def commit_on_disk(dest: Path, sha: str) -> bool:
    """True when the full SHA-1 names a commit stored loose or whole in a pack; False when it may be absent
    (or stored as a delta, or the sha is abbreviated): then only git can tell."""
    if len(sha) != _SHA1_HEX:
        return False
    try:
        name = bytes.fromhex(sha)
    except ValueError:
        return False
    objects = dest / ".git" / "objects"
    try:
        return _loose_commit(objects / sha[:2].lower() / sha[2:].lower()) or any(
            _packed_commit(index, name) for index in (objects / "pack").glob("pack-*.idx")
        )
    except (OSError, ValueError, zlib.error):
        return False


def _loose_commit(path: Path) -> bool:
    try:
        with path.open("rb") as loose:
            head = zlib.decompressobj().decompress(loose.read(64))
    except FileNotFoundError:
        return False
    return head.startswith(b"commit ")


def _packed_commit(index: Path, name: bytes) -> bool:
    with index.open("rb") as file:
        if os.fstat(file.fileno()).st_size < _NAMES_AT:
            return False
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as idx:
            if idx[: len(_IDX_MAGIC)] != _IDX_MAGIC:
                return False
            offset = _pack_offset(idx, name)
    if offset is None:
        return False
    with index.with_suffix(".pack").open("rb") as pack:
        pack.seek(offset)
        first = pack.read(1)
    return len(first) == 1 and (first[0] >> 4) & 7 == _OBJ_COMMIT


def _pack_offset(idx: mmap.mmap, name: bytes) -> int | None:
    """Where the object starts in the pack, by a binary search of the index's sorted names."""

    def fanout(byte: int) -> int:
        return int.from_bytes(idx[_FANOUT_AT + 4 * byte : _FANOUT_AT + 4 * byte + 4], "big")

    count = fanout(255)
    low, high = (fanout(name[0] - 1) if name[0] else 0), fanout(name[0])
    while low < high:
        middle = (low + high) // 2
        at = _NAMES_AT + _SHA1_BYTES * middle
        found = idx[at : at + _SHA1_BYTES]
        if found == name:
            offsets_at = _NAMES_AT + (_SHA1_BYTES + 4) * count  # past the names and their CRC-32s
            offset = int.from_bytes(idx[offsets_at + 4 * middle : offsets_at + 4 * middle + 4], "big")
            if offset & _LARGE_OFFSET:
                large_at = offsets_at + 4 * count + 8 * (offset & ~_LARGE_OFFSET)
                offset = int.from_bytes(idx[large_at : large_at + 8], "big")
            return offset
        if found < name:
            low = middle + 1
        else:
            high = middle
    return None


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
