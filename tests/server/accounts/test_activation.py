"""Activating a repository from the forge: Hangar makes the repository, a fresh webhook secret and the webhook
(as GitHub's API documents it); a webhook signed with it builds; renamed repositories are found by their
forge id; deactivating removes the webhook."""

from __future__ import annotations

import httpx
import pytest

from server.services import Services
from server.store.repos import find_repo
from tests.server.accounts.conftest import Browsers, Visitor
from tests.server.forges.standin.forge import StandinForge
from tests.server.support import github_headers, github_push


async def activate(visitor: Visitor, slug: str) -> httpx.Response:
    """Activate through the API with the browser's session."""
    return await visitor.http.post(f"/api/repos/{slug}", headers={"X-CSRF-Token": visitor.csrf})


async def deliver(visitor: Visitor, body: bytes, secret: str) -> httpx.Response:
    """A push webhook as GitHub signs it with `secret`."""
    return await visitor.http.post("/hook", content=body, headers=github_headers(body, secret))


async def test_activating_makes_the_webhook_and_a_push_signed_with_its_secret_is_received(
    hangar: Services, forge: StandinForge, browsers: Browsers
) -> None:
    forge_repo = forge.add_repo("carol", "app", "https://forge.example/carol/app.git", private=True)
    forge_repo.default_branch = "trunk"
    carol = await browsers.signed_in("carol")
    listed = (await carol.http.get("/api/user/repos?sync=true")).json()
    assert [(repo["owner"], repo["name"], repo["permission"], repo["active"]) for repo in listed] == [
        ("carol", "app", "admin", False)
    ]
    answer = await activate(carol, "carol/app")
    assert answer.status_code == 201, answer.text
    shown = answer.json()
    assert (shown["private"], shown["default_branch"], shown["clone_url"]) == (
        True,
        "trunk",
        forge_repo.clone_url,
    )
    assert "webhook_secret" not in shown
    (hook,) = forge_repo.hooks.values()
    url, secret = forge.hook_target(hook)
    assert url == "http://hangar.test/hook"
    assert forge.hook_events(hook) == {"push", "tag", "pull_request"}
    async with hangar.reading() as session:
        repo = await find_repo(session, "carol", "app")
    assert repo is not None and repo.forge_id == str(forge_repo.id)
    assert hangar.cipher.decrypt(repo.webhook_secret) == secret
    body = github_push("carol", "app", "", "a" * 40, "first")
    received = await carol.http.post("/hook", content=body, headers=github_headers(body, secret))
    assert received.status_code == 202, received.text
    assert (await carol.http.get("/api/user/repos")).json()[0]["active"] is True


async def test_only_the_forge_s_administrators_may_activate(forge: StandinForge, browsers: Browsers) -> None:
    forge_repo = forge.add_repo("carol", "app", "https://forge.example/carol/app.git")
    forge_repo.access["bob"] = "push"
    bob = await browsers.signed_in("bob")
    refused = await activate(bob, "carol/app")
    assert refused.status_code == 403
    assert forge_repo.hooks == {}
    assert (await activate(bob, "carol/nothing")).status_code == 404


async def test_a_renamed_repository_is_found_by_its_forge_id(
    hangar: Services, forge: StandinForge, browsers: Browsers
) -> None:
    if forge.kind != "github":
        pytest.skip("the deliveries sent here are GitHub's (the forge id is looked up by the sender's kind)")
    forge_repo = forge.add_repo("carol", "app", "https://forge.example/carol/app.git")
    carol = await browsers.signed_in("carol")
    assert (await activate(carol, "carol/app")).status_code == 201
    _url, secret = forge.hook_target(next(iter(forge_repo.hooks.values())))
    forge_repo.name = "renamed"
    payload = github_push("carol", "renamed", "", "b" * 40, "after the rename").replace(
        b'"full_name"', b'"id": %d, "full_name"' % forge_repo.id, 1
    )
    received = await carol.http.post("/hook", content=payload, headers=github_headers(payload, secret))
    assert received.status_code == 202, received.text
    await carol.http.get("/api/user/repos?sync=true")
    async with hangar.reading() as session:
        assert await find_repo(session, "carol", "renamed") is not None
        assert await find_repo(session, "carol", "app") is None


async def test_deactivating_removes_the_webhook_and_the_repository(
    hangar: Services, forge: StandinForge, browsers: Browsers
) -> None:
    forge_repo = forge.add_repo("carol", "app", "https://forge.example/carol/app.git")
    carol = await browsers.signed_in("carol")
    assert (await activate(carol, "carol/app")).status_code == 201
    assert len(forge_repo.hooks) == 1
    gone = await carol.http.delete("/api/repos/carol/app", headers={"X-CSRF-Token": carol.csrf})
    assert gone.status_code == 204
    assert forge_repo.hooks == {}
    async with hangar.reading() as session:
        assert await find_repo(session, "carol", "app") is None


async def test_the_repositories_page_activates_and_deactivates(
    forge: StandinForge, browsers: Browsers
) -> None:
    forge_repo = forge.add_repo("carol", "app", "https://forge.example/carol/app.git")
    forge.add_repo("bob", "other", "https://forge.example/bob/other.git").access["carol"] = "push"
    carol = await browsers.signed_in("carol")
    page = await carol.http.get("/-/repos")
    assert "carol/app" in page.text
    assert "bob/other" not in page.text, "only repositories the user administers"
    form = {"csrf": carol.csrf, "owner": "carol", "name": "app"}
    activated = await carol.http.post("/-/repos/activate", data=form)
    assert activated.status_code == 303 and activated.headers["location"] == "/carol/app"
    assert len(forge_repo.hooks) == 1
    assert "Deactivate carol/app" in (await carol.http.get("/-/repos")).text
    assert (await carol.http.post("/-/repos/deactivate", data=form)).status_code == 303
    assert forge_repo.hooks == {}
    assert "Activate carol/app" in (await carol.http.get("/-/repos")).text


async def test_the_settings_page_shows_the_webhook_s_health_and_re_creates_a_lost_one(
    hangar: Services, forge: StandinForge, browsers: Browsers
) -> None:
    forge_repo = forge.add_repo("carol", "app", "https://forge.example/carol/app.git")
    carol = await browsers.signed_in("carol")
    assert (await activate(carol, "carol/app")).status_code == 201
    page = (await carol.http.get("/carol/app/settings")).text
    assert "Last delivery received: none yet" in page
    assert f"{forge.title} has the webhook" in page and "Re-create webhook" not in page
    _url, old_secret = forge.hook_target(next(iter(forge_repo.hooks.values())))
    body = github_push("carol", "app", "", "c" * 40, "one")
    assert (
        await carol.http.post("/hook", content=body, headers=github_headers(body, old_secret))
    ).status_code == 202
    assert "Last delivery received: just now" in (await carol.http.get("/carol/app/settings")).text

    forge_repo.hooks.clear()  # removed on the forge
    page = (await carol.http.get("/carol/app/settings")).text
    assert f"{forge.title} says the webhook is gone" in page
    recreated = await carol.http.post("/carol/app/settings/hook", data={"csrf": carol.csrf})
    assert recreated.status_code == 303
    (hook,) = forge_repo.hooks.values()
    url, secret = forge.hook_target(hook)
    assert url == "http://hangar.test/hook" and secret != old_secret
    again = github_push("carol", "app", "c" * 40, "d" * 40, "two")
    assert (
        await carol.http.post("/hook", content=again, headers=github_headers(again, old_secret))
    ).status_code == 401
    assert (
        await carol.http.post("/hook", content=again, headers=github_headers(again, secret))
    ).status_code == 202
    assert f"{forge.title} has the webhook" in (await carol.http.get("/carol/app/settings")).text
