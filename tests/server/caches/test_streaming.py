"""The shared cache over a real HTTP server (uvicorn): a runner lost halfway through an upload leaves nothing,
and a large entry goes up and comes down with the server's memory flat."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select
from starlette.applications import Starlette

from pipelines.runner_api import CHECKSUM_HEADER
from runner.caches.remote import RemoteCacheStore
from runner.client import RunnerClient
from server.db.models import CacheEntry, Repo
from server.services import Services
from tests.server.api.conftest import served
from tests.server.caches.support import Taken, take_stage
from tests.server.conftest import RUNNER_SECRET

LARGE = 200 * 1024 * 1024
BLOCK = 4 * 1024 * 1024


@pytest.fixture
async def port(app: Starlette) -> AsyncIterator[int]:
    """The app served by uvicorn on 127.0.0.1: its port."""
    async with served(app) as number:
        yield number


def over_http(taken: Taken, port: int) -> RunnerClient:
    """The stage's runner, speaking HTTP to the served app."""
    return RunnerClient(f"http://127.0.0.1:{port}", RUNNER_SECRET, taken.client.name, timeout=120)


async def entries(hangar: Services) -> list[CacheEntry]:
    async with hangar.reading() as session:
        return list((await session.exec(select(CacheEntry))).all())


async def test_a_runner_lost_halfway_through_an_upload_leaves_nothing(
    hangar: Services, app: Starlette, repo: Repo, port: int
) -> None:
    taken = await take_stage(hangar, app, repo, "runner-a")
    host = "127.0.0.1"
    body = os.urandom(1_000_000)
    head = (
        f"PUT /api/runner/stages/{taken.stage_id}/caches?key=pip-1 HTTP/1.1\r\nHost: {host}\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in taken.headers.items())
        + f"{CHECKSUM_HEADER}: {hashlib.sha256(body).hexdigest()}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    _reader, writer = await asyncio.open_connection(host, port)
    writer.write(head.encode() + body[:400_000])
    await writer.drain()
    folder = hangar.settings.data / "caches" / str(repo.id)
    async with asyncio.timeout(30):
        while not (folder.exists() and any(folder.iterdir())):  # the server is writing the temp file
            await asyncio.sleep(0.01)
        writer.close()  # the runner is gone
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
        while any(folder.iterdir()):  # the server notices, and removes what it had
            await asyncio.sleep(0.01)
    assert await entries(hangar) == []
    async with over_http(taken, port) as client:
        store = RemoteCacheStore(client, taken.stage_id, taken.lease)
        assert await store.find("pip-1", [], []) is None


def _write_random(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as file:
        for _ in range(size // BLOCK):
            block = os.urandom(BLOCK)
            digest.update(block)
            file.write(block)
    return digest.hexdigest()


def _memory(field: str) -> int:
    """This process's VmRSS or VmHWM (its peak since the last reset), in bytes."""
    status = Path("/proc/self/status").read_text()
    found = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    assert found is not None
    return int(found.group(1)) * 1024


async def test_a_large_entry_goes_up_and_comes_down_with_the_memory_flat(
    hangar: Services, app: Starlette, repo: Repo, port: int, tmp_path: Path
) -> None:
    taken = await take_stage(hangar, app, repo, "runner-a")
    source = tmp_path / "large.tar"
    sha = await asyncio.to_thread(_write_random, source, LARGE)
    Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from here
    before = _memory("VmRSS")
    async with over_http(taken, port) as client:
        store = RemoteCacheStore(client, taken.stage_id, taken.lease)
        kept = await store.keep("big", "main", source, sha)
        assert kept is not None and kept.size == LARGE
        await store.fetch(kept, tmp_path / "restored.tar")
    growth = _memory("VmHWM") - before
    print(f"\n{LARGE // 2**20} MiB up and down through the server: peak RSS grew by {growth / 2**20:.1f} MiB")
    assert growth < 64 * 1024 * 1024, "the entry was held in memory"
    assert (tmp_path / "restored.tar").stat().st_size == LARGE
