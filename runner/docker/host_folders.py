"""Volume folders on the Docker host itself, read and written directly when this process may.

A runner on the Docker host (`hangar up`, a runner as root beside dockerd, a rootless engine of the same
user) can fill the workspace by writing into the volume's folder, and read a finished step's reports from
its folder, instead of streaming tars through the daemon: no placeholder container, no archive copied. It
does so only when the folder Docker names exists here, is owned by this process's user (so a file written
here belongs to the container's root, as one unpacked by Docker would; with user namespace remapping the
owner differs) and is writable. Anything else falls back to Docker's archive API.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, cast

SPOOL_IN_MEMORY = 1024 * 1024
"""Archives read from the engine or packed here stay in memory up to this size, then go to a temp file."""


class TooLarge(Exception):
    """The folder holds more than the limit."""


def owned_folder(source: object) -> Path | None:
    """The folder at `source` if it is this process's user's, writable; None otherwise."""
    if not isinstance(source, str) or not source:
        return None
    folder = Path(source)
    try:
        owner = folder.stat().st_uid
    except OSError:
        return None
    if owner != os.geteuid() or not os.access(folder, os.W_OK | os.X_OK):
        return None
    return folder


def writable_folder(volume: dict[str, Any], relative: str) -> Path | None:
    """`relative` inside the created volume (the answer of `POST /volumes/create`), made; None if unusable."""
    if volume.get("Driver", "local") != "local":
        return None
    root = owned_folder(volume.get("Mountpoint"))
    if root is None:
        return None
    folder = root / relative if relative else root
    try:
        folder.mkdir(mode=0o755, parents=True, exist_ok=True)
    except OSError:
        return None
    return folder


def mounted_folder(container: dict[str, Any], path: str) -> Path | None:
    """The host folder of the container's local volume mounted exactly at `path` (from its inspect)."""
    for mount in container.get("Mounts") or []:
        exact = mount.get("Destination") == path.rstrip("/") and mount.get("Type") == "volume"
        if exact and mount.get("Driver", "local") == "local":
            return owned_folder(mount.get("Source"))
    return None


def pack_folder(folder: Path, name: str, limit: int) -> BinaryIO:
    """A tar of the folder with its entries under `name`, as Docker's archive API names them (links kept)."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (the caller closes it)
    try:
        with tarfile.open(fileobj=spool, mode="w", format=tarfile.PAX_FORMAT) as tar:
            tar.add(folder, arcname=name, filter=_counted(limit))
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return cast(BinaryIO, spool)


def _counted(limit: int) -> Any:
    total = 0

    def count(info: tarfile.TarInfo) -> tarfile.TarInfo:
        nonlocal total
        total += info.size
        if total > limit:
            raise TooLarge(f"more than {limit} bytes")
        return info

    return count
