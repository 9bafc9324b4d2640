"""The repository settings page's caches: the shared entries listed, the purge button, the auto switch."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from server.db.models import Repo
from server.services import Services
from server.store.repos import find_repo
from tests.server.caches.support import put_entry, take_stage
from tests.server.web.conftest import add_person, sign_in

FORM = {"timeout": "60", "default_branch": "main", "email_policy": "change", "approval": "forks"}


async def test_the_page_lists_the_entries_and_its_button_purges_them(
    client: httpx.AsyncClient, hangar: Services, app: Starlette, repo: Repo
) -> None:
    taken = await take_stage(hangar, app, repo, "runner-a")
    assert (await put_entry(client, taken, "pip-3f2a9c", b"p" * 2_500_000)).status_code == 201
    await add_person(hangar, "root", admin=True)
    person = await sign_in(client, "root")
    page = (await client.get("/octo/app/settings")).text
    caches = page[page.index('id="caches"') : page.index('id="secrets"')]
    assert "<code>pip-3f2a9c</code>" in caches and "2.5 MB" in caches and "<td>main</td>" in caches
    assert 'action="/octo/app/settings/caches/purge"' in caches

    purged = await client.post("/octo/app/settings/caches/purge", data={"csrf": person.csrf})
    assert purged.status_code == 303 and purged.headers["location"].endswith("#caches")
    page = (await client.get("/octo/app/settings")).text
    assert "pip-3f2a9c" not in page and "No shared cache entries." in page
    async with hangar.reading() as session:
        stored = await find_repo(session, "octo", "app")
    assert stored is not None and stored.cache_generation == 1


async def test_the_auto_cache_switch_is_saved_and_only_administrators_purge(
    client: httpx.AsyncClient, hangar: Services, repo: Repo
) -> None:
    await add_person(hangar, "root", admin=True)
    root = await sign_in(client, "root")
    assert 'name="cache_auto" checked>' in (await client.get("/octo/app/settings")).text
    assert (await client.post("/octo/app/settings", data=FORM | {"csrf": root.csrf})).status_code == 303
    assert 'name="cache_auto" >' in (await client.get("/octo/app/settings")).text
    form = FORM | {"cache_auto": "on", "csrf": root.csrf}
    assert (await client.post("/octo/app/settings", data=form)).status_code == 303
    async with hangar.reading() as session:
        stored = await find_repo(session, "octo", "app")
    assert stored is not None and stored.cache_auto

    client.cookies.clear()
    await add_person(hangar, "ann")
    ann = await sign_in(client, "ann")
    refused = await client.post("/octo/app/settings/caches/purge", data={"csrf": ann.csrf})
    assert refused.status_code == 403
    async with hangar.reading() as session:
        stored = await find_repo(session, "octo", "app")
    assert stored is not None and stored.cache_generation == 0
