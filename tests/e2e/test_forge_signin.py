"""Signing in with GitHub in a real browser (Debian's Chromium) against a real `hangar up` and a stand-in
GitHub: activate a repository (Hangar makes the webhook), push, the build runs and reports its status with the
activating user's token; a reader sees the build without a Restart button and is refused by the API; someone
without access gets 404 everywhere; a revoked reader loses access once the kept answer expires; deactivating
removes the webhook."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.browser import open_browser
from tests.e2e.processes import Hangar, hangar_up, wait_until
from tests.e2e.test_browser import shoot
from tests.reliability.sweep import find_secrets
from tests.reliability.test_secrets_never_leak import data_files
from tests.server.forges.standin.github import CLIENT_ID, CLIENT_SECRET, StandinGitHub
from tests.server.forges.standin.serve import serve
from tests.server.support import PushedRepo, github_headers, github_push

PERMISSION_SECONDS = 3
QUICK = """\
kind: pipeline
name: test
steps:
  - name: greet
    image: busybox
    commands: [echo "built for carol"]
"""


@pytest.fixture
def github() -> Iterator[StandinGitHub]:
    forge = StandinGitHub()
    for login in ("carol", "bob", "erin"):
        forge.add_user(login, f"{login}@example.com")
    with serve(forge.app) as url:
        forge.url = url
        yield forge
    assert forge.problems == [], "\n".join(forge.problems)


@pytest.fixture
def hangar(tmp_path: Path, docker_host: str, github: StandinGitHub) -> Iterator[Hangar]:
    env = {
        "HANGAR_GITHUB_CLIENT_ID": CLIENT_ID, "HANGAR_GITHUB_CLIENT_SECRET": CLIENT_SECRET,
        "HANGAR_GITHUB_URL": github.url,
        "HANGAR_PERMISSION_SECONDS": str(PERMISSION_SECONDS),
    }  # fmt: skip
    with hangar_up(tmp_path / "data", env=env) as running:
        yield running


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with open_browser() as opened:
        yield opened


async def sign_in_with_github(browser: Browser, hangar: Hangar, login: str) -> tuple[BrowserContext, Page]:
    """A fresh browser context signed in as `login` through GitHub's (the stand-in's) authorize page."""
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    await page.goto(f"{hangar.url}/login")
    await page.get_by_role("link", name="Sign in with GitHub").click()
    await page.get_by_label("Login").fill(login)
    await page.get_by_role("button", name="Authorize").click()
    await expect(page.locator(".who .login")).to_have_text(login)
    return context, page


async def csrf_of(page: Page) -> str:
    """The CSRF token the page's forms carry."""
    return str(await page.locator('input[name="csrf"]').first.get_attribute("value"))


async def nothing_secret_shown(hangar: Hangar, page: Page, github: StandinGitHub, hook_secret: str) -> None:
    """No form of a forge token (access or refresh), the OAuth client secret or the webhook secret in the
    pages and API answers of the repository's owner, the server's output or the data folder."""
    seen: dict[str, str | bytes] = {}
    api = "/api/repos/carol/app"
    for path in ("/", "/-/repos", "/carol/app", "/carol/app/1", "/carol/app/settings", "/api/user",
                 "/api/user/repos", "/api/repos", api, f"{api}/builds/1"):  # fmt: skip
        seen[path] = await (await page.request.get(f"{hangar.url}{path}")).text()
    seen["server output"] = hangar.output()
    seen |= data_files(hangar.data)
    secrets = [*github.oauth.access, *github.oauth.refresh, CLIENT_SECRET, hook_secret]
    assert find_secrets(seen, secrets) == []


async def test_sign_in_activate_build_and_the_forge_s_permissions(
    hangar: Hangar, github: StandinGitHub, browser: Browser, tmp_path: Path
) -> None:
    git = PushedRepo(tmp_path / "git")
    forge_repo = github.add_repo("carol", "app", str(git.bare), private=True)
    forge_repo.access["bob"] = "pull"

    carol, page = await sign_in_with_github(browser, hangar, "carol")
    await page.get_by_role("link", name="Your repositories").click()
    await expect(page.get_by_role("cell", name="carol/app", exact=True)).to_be_visible()
    await page.screenshot(path=shoot("forge-repositories"), full_page=True)
    await page.get_by_role("button", name="Activate carol/app").click()
    await expect(page).to_have_url(f"{hangar.url}/carol/app")
    (hook,) = forge_repo.hooks.values()
    assert hook["config"]["url"] == f"{hangar.url}/hook"
    secret = hook["config"]["secret"]
    assert len(secret) >= 32

    before, sha = git.push({".ci.yml": QUICK})
    body = github_push("carol", "app", before, sha, "first build")
    delivered = httpx.post(
        f"{hangar.url}/hook", content=body, headers=github_headers(body, secret), trust_env=False
    )
    assert delivered.status_code == 202, delivered.text
    build = hangar.wait_for_build("carol/app", 1)
    assert build["status"] == "success", build
    wait_until(lambda: any(s["state"] == "success" for s in github.statuses), "the success status", 60)
    assert {(s["login"], s["sha"]) for s in github.statuses} == {("carol", sha)}, "sent with carol's token"
    await page.goto(f"{hangar.url}/carol/app/1")
    await expect(page.locator("#build-status")).to_contain_text("success")
    await expect(page.get_by_role("button", name="Restart", exact=True)).to_be_visible()

    bob, bob_page = await sign_in_with_github(browser, hangar, "bob")
    await bob_page.goto(f"{hangar.url}/carol/app/1")
    await expect(bob_page.locator("#build-status")).to_contain_text("success")
    assert await bob_page.get_by_role("button", name="Restart", exact=True).count() == 0
    await bob_page.screenshot(path=shoot("forge-reader-build"), full_page=True)
    refused = await bob_page.request.post(
        f"{hangar.url}/api/repos/carol/app/builds/1", headers={"X-CSRF-Token": await csrf_of(bob_page)}
    )
    assert refused.status == 403

    erin, erin_page = await sign_in_with_github(browser, hangar, "erin")
    api = "/api/repos/carol/app"
    for path in ("/carol/app", "/carol/app/1", "/carol/app/1/1/2", api, f"{api}/builds/1",
                 f"{api}/builds/1/logs/1/2/stream"):  # fmt: skip
        answer = await erin_page.request.get(f"{hangar.url}{path}")
        assert answer.status == 404, path
        assert "built for carol" not in await answer.text()
    await erin_page.goto(f"{hangar.url}/")
    await expect(erin_page.locator("main")).not_to_contain_text("carol/app")

    forge_repo.access.pop("bob")  # revoked on the forge: gone once the kept answer expires
    deadline = time.monotonic() + PERMISSION_SECONDS + 30
    while (await bob_page.request.get(f"{hangar.url}/carol/app/1")).status != 404:
        assert time.monotonic() < deadline, "bob still reads carol/app long after his access was revoked"
        time.sleep(0.25)

    await nothing_secret_shown(hangar, page, github, secret)

    await page.goto(f"{hangar.url}/-/repos")
    await page.get_by_role("button", name="Deactivate carol/app").click()
    await expect(page.get_by_role("button", name="Activate carol/app")).to_be_visible()
    assert forge_repo.hooks == {}
    for context in (carol, bob, erin):
        await context.close()
