"""The server's shared cache as a runner's `CacheStore`, against the real server app: kept, found, fetched;
refused for a fork; a corrupt entry refused; two runners sharing what either saved."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlmodel import select
from starlette.applications import Starlette

from runner.caches.remote import RemoteCacheStore
from runner.caches.store import CacheCorrupt, CacheStore, StoredEntry
from runner.client import RunnerClient
from server.db.models import CacheEntry, Repo
from server.services import Services
from tests.server.api.seed import add_repo
from tests.server.caches.support import Taken, archive, cache_server, take_stage


@pytest.fixture
async def server(tmp_path: Path, services: dict[str, str]) -> AsyncIterator[tuple[Services, Starlette, Repo]]:
    """The real app over SQLite and the test Redis, with a repository octo/app."""
    database = f"sqlite:///{tmp_path / 'hangar.db'}"
    async with cache_server(tmp_path / "data", database, services["HANGAR_TEST_REDIS_URL"]) as (hangar, app):
        yield hangar, app, await add_repo(hangar, "octo", "app")


def store_of(taken: Taken) -> CacheStore:
    return RemoteCacheStore(taken.client, taken.stage_id, taken.lease)


async def kept_by_a_runner(
    server: tuple[Services, Starlette, Repo], folder: Path, key: str, size: int
) -> tuple[CacheStore, Path, StoredEntry]:
    """A stage's store whose runner kept an archive of `size` random bytes as `key` on main; the archive."""
    hangar, app, repo = server
    store = store_of(await take_stage(hangar, app, repo, "runner-a"))
    path, sha = archive(folder, f"{key}.tar", size)
    kept = await store.keep(key, "main", path, sha)
    assert kept is not None and (kept.key, kept.branch, kept.size, kept.sha256) == (key, "main", size, sha)
    return store, path, kept


async def test_what_is_kept_is_found_and_fetched_whole(
    server: tuple[Services, Starlette, Repo], tmp_path: Path
) -> None:
    store, path, kept = await kept_by_a_runner(server, tmp_path, "pip-3f2a", 1_500_000)
    assert await store.keep("pip-3f2a", "main", path, kept.sha256) is None, (
        "a key kept already is not kept again"
    )
    found = await store.find("pip-9999", ["pip-"], ["main"])
    assert found == kept
    await store.fetch(found, tmp_path / "restored.tar")
    assert (tmp_path / "restored.tar").read_bytes() == path.read_bytes()


async def test_a_forks_stage_reads_but_its_keep_keeps_nothing(
    server: tuple[Services, Starlette, Repo], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    hangar, app, repo = server
    push = await take_stage(hangar, app, repo, "runner-a")
    path, sha = archive(tmp_path, "deps.tar", 1000)
    assert await store_of(push).keep("pip-1", "main", path, sha) is not None
    fork = await take_stage(
        hangar, app, repo, "runner-b", event="pull_request", branch="main", source_branch="patch-1",
        target_branch="main", fork=True, ref="refs/pull/3/head",
    )  # fmt: skip
    store = store_of(fork)
    poisoned, poisoned_sha = archive(tmp_path, "poison.tar", 1000)
    assert await store.keep("pip-1-poison", "patch-1", poisoned, poisoned_sha) is None
    assert not [record for record in caplog.records if record.levelname in ("ERROR", "CRITICAL")]
    found = await store.find("pip-2", ["pip-"], ["patch-1", "main"])
    assert found is not None and found.key == "pip-1", "it restores its target branch's entry"
    async with hangar.reading() as session:
        keys = [entry.key for entry in (await session.exec(select(CacheEntry))).all()]
    assert keys == ["pip-1"]


async def test_an_entry_corrupted_on_the_server_is_refused_and_nothing_is_left(
    server: tuple[Services, Starlette, Repo], tmp_path: Path
) -> None:
    hangar, _app, repo = server
    store, _path, kept = await kept_by_a_runner(server, tmp_path, "pip-1", 100_000)
    on_server = hangar.settings.data / "caches" / str(repo.id) / kept.handle
    damaged = bytearray(on_server.read_bytes())
    damaged[50_000] ^= 0xFF
    on_server.write_bytes(bytes(damaged))
    destination = tmp_path / "restored.tar"
    with pytest.raises(CacheCorrupt, match="does not match"):
        await store.fetch(kept, destination)
    assert not destination.exists()
    on_server.unlink()
    with pytest.raises(CacheCorrupt, match="no longer"):
        await store.fetch(kept, destination)


async def test_a_server_out_of_reach_finds_and_keeps_nothing_without_failing(tmp_path: Path) -> None:
    async with RunnerClient("http://127.0.0.1:9", "token", "runner-a", timeout=5) as client:
        store = RemoteCacheStore(client, 1, "lease")
        path, sha = archive(tmp_path, "deps.tar", 10)
        assert await store.find("k", [], ["main"]) is None
        assert await store.keep("k", "main", path, sha) is None


async def test_two_runners_share_what_either_saved(
    server: tuple[Services, Starlette, Repo], tmp_path: Path
) -> None:
    hangar, app, repo = server
    first = await take_stage(hangar, app, repo, "runner-a")
    path, sha = archive(tmp_path, "deps.tar", 2_000_000)
    saved = await store_of(first).keep(
        "pip-" + hashlib.sha256(b"requirements").hexdigest()[:12], "main", path, sha
    )
    assert saved is not None
    second = await take_stage(hangar, app, repo, "runner-b", branch="feature", ref="refs/heads/feature")
    assert (first.client.name, second.client.name) == ("runner-a", "runner-b")
    assert second.assignment.cache is not None and second.assignment.cache.fallback_branches == ["main"]
    store = store_of(second)
    found = await store.find(saved.key, ["pip-"], ["feature", "main"])
    assert found == saved
    await store.fetch(found, tmp_path / "on-runner-b.tar")
    assert hashlib.sha256((tmp_path / "on-runner-b.tar").read_bytes()).hexdigest() == sha
