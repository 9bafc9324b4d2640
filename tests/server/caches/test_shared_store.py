"""The runner API's shared cache on the real app (SQLite and PostgreSQL): what is kept, found, downloaded,
refused, and what a lost or lying upload leaves behind (nothing)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from sqlmodel import select
from starlette.applications import Starlette

from pipelines.runner_api import CHECKSUM_HEADER
from server.db.models import CacheEntry, Repo
from server.services import Services
from tests.server.caches.support import archive, put_entry, take_stage
from tests.server.conftest import admin_headers


def stored_files(hangar: Services, repo: Repo) -> list[str]:
    """The names in the repository's cache folder (temp files included)."""
    folder = hangar.settings.data / "caches" / str(repo.id)
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


async def rows(hangar: Services) -> list[CacheEntry]:
    async with hangar.reading() as session:
        return list((await session.exec(select(CacheEntry).order_by(CacheEntry.id))).all())  # type: ignore[arg-type]


async def test_an_entry_is_kept_found_by_key_or_prefix_and_downloaded_whole(
    hangar: Services, app: Starlette, repo: Repo, tmp_path: Path
) -> None:
    taken = await take_stage(hangar, app, repo, "runner-a")
    path, sha = archive(tmp_path, "pip.tar", 300_000)
    kept = await taken.client.keep_cache(taken.stage_id, "pip-3f2a", path, sha, taken.lease)
    assert kept is not None and (kept.key, kept.branch, kept.size, kept.sha256) == (
        "pip-3f2a",
        "main",
        300_000,
        sha,
    )
    assert stored_files(hangar, repo) == [str(kept.id)], "one file, named by its entry, no temp file left"

    exact = await taken.client.find_cache(taken.stage_id, "pip-3f2a", ["pip-"], [], taken.lease)
    by_prefix = await taken.client.find_cache(taken.stage_id, "pip-9999", ["pip-"], ["main"], taken.lease)
    assert exact == kept and by_prefix == kept
    assert await taken.client.find_cache(taken.stage_id, "npm-1", ["npm-"], [], taken.lease) is None

    before = (await rows(hangar))[0].last_used
    destination = tmp_path / "restored.tar"
    written = await taken.client.fetch_cache(taken.stage_id, kept.id, destination, taken.lease)
    assert written == sha and destination.read_bytes() == path.read_bytes()
    assert (await rows(hangar))[0].last_used > before, "a download marks the entry used"
    await taken.client.close()


async def test_a_key_kept_already_is_409_and_the_first_entry_stays(
    hangar: Services, app: Starlette, repo: Repo, http: httpx.AsyncClient
) -> None:
    taken = await take_stage(hangar, app, repo, "runner-a")
    assert (await put_entry(http, taken, "k", b"first")).status_code == 201
    again = await put_entry(http, taken, "k", b"second")
    assert again.status_code == 409, again.text
    [entry] = await rows(hangar)
    assert entry.sha256 == hashlib.sha256(b"first").hexdigest()
    assert stored_files(hangar, repo) == [str(entry.id)]


async def test_a_body_that_does_not_match_its_checksum_or_ends_early_keeps_nothing(
    hangar: Services, app: Starlette, repo: Repo, http: httpx.AsyncClient
) -> None:
    taken = await take_stage(hangar, app, repo, "runner-a")
    lying = await put_entry(
        http, taken, "k", b"the bytes", checksum=hashlib.sha256(b"other bytes").hexdigest()
    )
    assert lying.status_code == 400 and "does not match" in lying.json()["error"]

    async def half() -> AsyncIterator[bytes]:
        yield b"x" * 500  # a runner lost after 500 of the 1000 bytes it announced

    body = b"x" * 1000
    headers = taken.headers | {CHECKSUM_HEADER: hashlib.sha256(body).hexdigest(), "Content-Length": "1000"}
    url = f"/api/runner/stages/{taken.stage_id}/caches"
    short = await http.put(url, params={"key": "k"}, content=half(), headers=headers)
    assert short.status_code == 400 and "ended early" in short.json()["error"]
    bad = await put_entry(http, taken, "k", b"x", checksum="not-a-sha")
    assert bad.status_code == 400
    assert await rows(hangar) == [] and stored_files(hangar, repo) == []
    assert (await put_entry(http, taken, "k", body)).status_code == 201, "the key is still free"


async def test_a_fork_may_read_its_target_branch_but_never_save(
    hangar: Services, app: Starlette, repo: Repo, http: httpx.AsyncClient
) -> None:
    push = await take_stage(hangar, app, repo, "runner-a")
    assert (await put_entry(http, push, "pip-1", b"from main")).status_code == 201
    fork = await take_stage(
        hangar, app, repo, "runner-b", event="pull_request", branch="main", source_branch="main",
        target_branch="main", fork=True, ref="refs/pull/9/head",
    )  # fmt: skip
    refused = await put_entry(http, fork, "pip-2", b"poison")
    assert refused.status_code == 403 and "fork" in refused.json()["error"]
    found = await fork.client.find_cache(fork.stage_id, "pip-2", ["pip-"], [], fork.lease)
    assert found is not None and found.key == "pip-1"
    assert [entry.key for entry in await rows(hangar)] == ["pip-1"]


async def test_a_branch_the_stage_may_not_read_is_neither_searched_nor_downloaded(
    hangar: Services, app: Starlette, repo: Repo, http: httpx.AsyncClient
) -> None:
    feature = await take_stage(hangar, app, repo, "runner-a", branch="feature", ref="refs/heads/feature")
    assert (await put_entry(http, feature, "k", b"feature's")).status_code == 201
    main = await take_stage(hangar, app, repo, "runner-b")
    assert await main.client.find_cache(main.stage_id, "k", [], ["feature"], main.lease) is None
    [entry] = await rows(hangar)
    answer = await http.get(f"/api/runner/stages/{main.stage_id}/caches/{entry.id}", headers=main.headers)
    assert answer.status_code == 404
    found = await feature.client.find_cache(feature.stage_id, "k", [], [], feature.lease)
    assert found is not None and found.branch == "feature"


async def test_calls_need_the_stage_held_under_its_lease(
    hangar: Services, app: Starlette, repo: Repo, http: httpx.AsyncClient
) -> None:
    taken = await take_stage(hangar, app, repo, "runner-a")
    url = f"/api/runner/stages/{taken.stage_id}/caches"
    wrong_lease = await http.get(url, params={"key": "k"}, headers=taken.headers | {"X-Hangar-Lease": "old"})
    other_runner = await http.get(url, params={"key": "k"}, headers=taken.headers | {"X-Hangar-Runner": "b"})
    anonymous = await http.get(url, params={"key": "k"})
    assert (wrong_lease.status_code, other_runner.status_code, anonymous.status_code) == (409, 409, 401)
    assert (await put_entry(http, taken, "k", b"x", **{"X-Hangar-Lease": "old"})).status_code == 409
    assert await rows(hangar) == []


async def test_a_server_that_shares_no_caches_finds_nothing_and_keeps_nothing(
    hangar: Services, app: Starlette, repo: Repo, http: httpx.AsyncClient
) -> None:
    taken = await take_stage(hangar, app, repo, "runner-a")
    assert (await put_entry(http, taken, "k", b"x")).status_code == 201
    hangar.settings.cache_shared = False
    later = await take_stage(hangar, app, repo, "runner-b")
    assert later.assignment.cache is not None and not later.assignment.cache.shared
    assert await later.client.find_cache(later.stage_id, "k", [], [], later.lease) is None
    assert (await put_entry(http, later, "j", b"y")).status_code == 403


async def test_past_the_size_bound_the_least_recently_used_entries_go_with_their_files(
    hangar: Services, app: Starlette, repo: Repo, http: httpx.AsyncClient
) -> None:
    hangar.settings.cache_repo_max_bytes = 2500
    taken = await take_stage(hangar, app, repo, "runner-a")
    for key in ("old", "used", "new"):
        assert (await put_entry(http, taken, key, key.encode() * 300)).status_code == 201
    used = next(entry for entry in await rows(hangar) if entry.key == "used")
    answer = await http.get(f"/api/runner/stages/{taken.stage_id}/caches/{used.id}", headers=taken.headers)
    assert answer.status_code == 200 and answer.content == b"used" * 300
    assert (await put_entry(http, taken, "newest", b"n" * 1000)).status_code == 201
    kept = await rows(hangar)
    assert sorted(entry.key for entry in kept) == ["newest", "used"], (
        "old, then new, were least recently used"
    )
    assert stored_files(hangar, repo) == sorted(str(entry.id) for entry in kept)
    too_big = await put_entry(http, taken, "huge", b"h" * 2501)
    assert too_big.status_code == 413 and stored_files(hangar, repo) == sorted(str(e.id) for e in kept)


async def test_two_uploads_of_one_key_at_once_keep_one_entry_and_one_file(
    hangar: Services, app: Starlette, repo: Repo, http: httpx.AsyncClient
) -> None:
    first = await take_stage(hangar, app, repo, "runner-a")
    second = await take_stage(hangar, app, repo, "runner-b")
    answers = await asyncio.gather(
        put_entry(http, first, "pip-1", b"a" * 200_000), put_entry(http, second, "pip-1", b"b" * 200_000)
    )
    assert sorted(answer.status_code for answer in answers) == [201, 409]
    [entry] = await rows(hangar)
    assert stored_files(hangar, repo) == [str(entry.id)]


async def test_a_purge_during_an_upload_keeps_nothing_of_it(
    hangar: Services, app: Starlette, repo: Repo, http: httpx.AsyncClient
) -> None:
    taken = await take_stage(hangar, app, repo, "runner-a")
    halfway, go_on = asyncio.Event(), asyncio.Event()
    body = b"x" * 100_000

    async def slow() -> AsyncIterator[bytes]:
        yield body[:50_000]
        halfway.set()
        await go_on.wait()
        yield body[50_000:]

    headers = taken.headers | {CHECKSUM_HEADER: hashlib.sha256(body).hexdigest(), "Content-Length": "100000"}
    url = f"/api/runner/stages/{taken.stage_id}/caches"
    upload = asyncio.create_task(http.put(url, params={"key": "k"}, content=slow(), headers=headers))
    await halfway.wait()
    purged = await http.delete("/api/repos/octo/app/caches", headers=admin_headers())
    assert purged.status_code == 200
    go_on.set()
    answer = await upload
    assert answer.status_code == 409 and "purged" in answer.json()["error"]
    assert await rows(hangar) == [] and stored_files(hangar, repo) == []
