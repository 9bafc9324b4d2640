"""A repository's caches for people over the API: the list (read permission), the purge and the auto-cache
setting (configure permission), and a forgotten repository's files."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from server.db.models import Repo
from server.services import Services
from tests.server.api.seed import add_user
from tests.server.caches.support import Taken, put_entry, take_stage
from tests.server.conftest import admin_headers


@pytest.fixture
async def kept(hangar: Services, app: Starlette, repo: Repo, http: httpx.AsyncClient) -> Taken:
    """A stage of octo/app whose runner kept pip-1 (10 bytes), then npm-1 (20 bytes)."""
    taken = await take_stage(hangar, app, repo, "runner-a")
    for key, body in (("pip-1", b"a" * 10), ("npm-1", b"b" * 20)):
        assert (await put_entry(http, taken, key, body)).status_code == 201
    return taken


async def test_readers_list_the_entries_most_recently_used_first(
    hangar: Services, repo: Repo, http: httpx.AsyncClient, kept: Taken
) -> None:
    listed = (await http.get("/api/repos/octo/app/caches")).json()
    assert [(e["key"], e["branch"], e["size"], e["runner"]) for e in listed] == [
        ("npm-1", "main", 20, "runner-a"),
        ("pip-1", "main", 10, "runner-a"),
    ]
    assert {"created", "last_used", "sha256", "id"} <= listed[0].keys()
    async with hangar.transaction() as (session, _changes):
        hidden = await session.get(Repo, repo.id)
        assert hidden is not None
        hidden.private = True
        session.add(hidden)
    assert (await http.get("/api/repos/octo/app/caches")).status_code == 404
    assert (await http.get("/api/repos/octo/app/caches", headers=admin_headers())).status_code == 200


async def test_a_purge_removes_every_entry_and_no_runner_restores_from_before_it(
    hangar: Services, app: Starlette, repo: Repo, http: httpx.AsyncClient, kept: Taken
) -> None:
    taken = kept
    jane = await add_user(hangar, "jane")
    assert (await http.delete("/api/repos/octo/app/caches")).status_code == 401
    assert (await http.delete("/api/repos/octo/app/caches", headers=jane)).status_code == 403
    assert len((await http.get("/api/repos/octo/app/caches")).json()) == 2

    purged = await http.delete("/api/repos/octo/app/caches", headers=admin_headers())
    assert purged.status_code == 200 and purged.json() == {"generation": 1, "removed": 2, "size": 30}
    assert (await http.get("/api/repos/octo/app/caches")).json() == []
    folder = hangar.settings.data / "caches" / str(repo.id)
    assert list(folder.iterdir()) == []
    assert await taken.client.find_cache(taken.stage_id, "pip-1", ["pip-"], [], taken.lease) is None
    later = await take_stage(hangar, app, repo, "runner-b")
    assert later.assignment.cache is not None and later.assignment.cache.generation == 1, "runners' disks too"


async def test_the_auto_cache_setting_is_changed_like_the_others_and_reaches_the_runner(
    hangar: Services, app: Starlette, repo: Repo, http: httpx.AsyncClient
) -> None:
    shown = (await http.get("/api/repos/octo/app", headers=admin_headers())).json()
    assert shown["cache_auto"] is True
    changed = await http.patch("/api/repos/octo/app", json={"cache_auto": False}, headers=admin_headers())
    assert changed.status_code == 200 and changed.json()["cache_auto"] is False
    refused = await http.patch("/api/repos/octo/app", json={"cache_auto": "no"}, headers=admin_headers())
    assert refused.status_code == 400
    taken = await take_stage(hangar, app, repo, "runner-a")
    assert taken.assignment.cache is not None and taken.assignment.cache.auto is False


async def test_a_forgotten_repository_leaves_no_cache_files(
    hangar: Services, repo: Repo, http: httpx.AsyncClient, kept: Taken
) -> None:
    folder = hangar.settings.data / "caches" / str(repo.id)
    assert folder.exists()
    assert (await http.delete("/api/repos/octo/app", headers=admin_headers())).status_code == 204
    assert not folder.exists()
