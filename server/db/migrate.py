"""Bring a database's schema up to date with Alembic (the migrations live in `server/migrations`)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str) -> Config:
    """An Alembic configuration for this asyncio driver URL, without an alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply every migration up to `revision` (runs its own event loop: call it from a thread).

    Processes starting together take turns: PostgreSQL through an advisory lock (in `env.py`), SQLite
    through a lock file beside the database.
    """
    with _sqlite_lock(url):
        command.upgrade(alembic_config(url), revision)


@contextlib.contextmanager
def _sqlite_lock(url: str) -> Iterator[None]:
    path = make_url(url).database if url.startswith("sqlite") else None
    if not path or path == ":memory:":
        yield
        return
    with open(f"{path}.migrate-lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


async def upgrade_async(url: str, revision: str = "head") -> None:
    """`upgrade` from inside an event loop."""
    await asyncio.to_thread(upgrade, url, revision)
