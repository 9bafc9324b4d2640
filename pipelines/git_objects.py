"""Whether a git repository holds an object, read from its files without a git process (the server's mirror
and the runner's clone both ask this of a fetch they just made). Only formats git has kept since 2007 are
read: loose objects and pack index version 2; a look-up that cannot tell answers False, and the caller asks
git."""

from __future__ import annotations

import mmap
import os
import zlib
from pathlib import Path

_SHA1_HEX = 40
_SHA1_BYTES = 20
_IDX_MAGIC = b"\377tOc\0\0\0\2"  # pack index version 2
_FANOUT_AT = len(_IDX_MAGIC)
_NAMES_AT = _FANOUT_AT + 256 * 4
_LARGE_OFFSET = 0x80000000
_OBJ_COMMIT = 1  # the type in a pack entry's first byte (bits 4-6)


def has_object(objects: Path, sha: str) -> bool:
    """Whether the object named by a full SHA-1 is in this objects folder, loose or in a pack."""
    name = _binary(sha)
    if name is None:
        return False
    try:
        if (objects / sha[:2].lower() / sha[2:].lower()).is_file():
            return True
        return any(_pack_offset(index, name) is not None for index in (objects / "pack").glob("*.idx"))
    except (OSError, ValueError):
        return False


def has_commit(objects: Path, sha: str) -> bool:
    """True when the full SHA-1 names a commit stored loose or whole in a pack; False when it may be absent
    (or stored as a delta, or the sha is abbreviated): then only git can tell."""
    name = _binary(sha)
    if name is None:
        return False
    try:
        return _loose_commit(objects / sha[:2].lower() / sha[2:].lower()) or any(
            _packed_commit(index, name) for index in (objects / "pack").glob("*.idx")
        )
    except (OSError, ValueError, zlib.error):
        return False


def _binary(sha: str) -> bytes | None:
    if len(sha) != _SHA1_HEX:
        return None
    try:
        return bytes.fromhex(sha)
    except ValueError:
        return None


def _loose_commit(path: Path) -> bool:
    try:
        with path.open("rb") as loose:
            head = zlib.decompressobj().decompress(loose.read(64))
    except FileNotFoundError:
        return False
    return head.startswith(b"commit ")


def _packed_commit(index: Path, name: bytes) -> bool:
    offset = _pack_offset(index, name)
    if offset is None:
        return False
    with index.with_suffix(".pack").open("rb") as pack:
        pack.seek(offset)
        first = pack.read(1)
    return len(first) == 1 and (first[0] >> 4) & 7 == _OBJ_COMMIT


def _pack_offset(index: Path, name: bytes) -> int | None:
    """Where the object starts in the pack beside this index (a search of its sorted names), or None."""
    with index.open("rb") as file:
        if os.fstat(file.fileno()).st_size < _NAMES_AT:
            return None
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as idx:
            if idx[: len(_IDX_MAGIC)] != _IDX_MAGIC:
                return None
            return _search(idx, name)


def _search(idx: mmap.mmap, name: bytes) -> int | None:
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
