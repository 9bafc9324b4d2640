"""Your repositories: every page of the forge's list, with the user's permission on each; a repository
changed on the forge (made private, its default branch moved) is brought up to date by a sync."""

from __future__ import annotations

from server.services import Services
from server.store.repos import find_repo
from tests.server.accounts.conftest import Browsers
from tests.server.forges.standin.forge import StandinForge

MANY = 130
"""More than one page of every forge (GitHub and GitLab: 100, Gitea: 50)."""


async def test_every_page_is_listed_with_the_user_s_permission(
    forge: StandinForge, browsers: Browsers
) -> None:
    for number in range(MANY):
        forge.add_repo("carol", f"repo{number:03}", f"https://forge.example/carol/repo{number:03}.git")
    forge.add_repo("bob", "shared", "https://forge.example/bob/shared.git").access["carol"] = "push"
    carol = await browsers.signed_in("carol")
    listed = (await carol.http.get("/api/user/repos")).json()  # synced when she signed in
    assert len(listed) == MANY + 1
    assert {repo["name"] for repo in listed} >= {"repo000", "repo129", "shared"}
    permissions = {repo["name"]: repo["permission"] for repo in listed}
    assert permissions["repo042"] == "admin" and permissions["shared"] == "write"
    page = (await carol.http.get("/-/repos")).text
    assert "carol/repo129" in page and "bob/shared" not in page


async def test_a_sync_brings_an_activated_repository_up_to_date(
    hangar: Services, forge: StandinForge, browsers: Browsers
) -> None:
    forge_repo = forge.add_repo("carol", "app", "https://forge.example/carol/app.git")
    carol = await browsers.signed_in("carol")
    assert (
        await carol.http.post("/api/repos/carol/app", headers={"X-CSRF-Token": carol.csrf})
    ).status_code == 201
    forge_repo.private, forge_repo.default_branch = True, "develop"
    assert (await carol.http.post("/-/repos/sync", data={"csrf": carol.csrf})).status_code == 303
    async with hangar.reading() as session:
        repo = await find_repo(session, "carol", "app")
    assert repo is not None and (repo.private, repo.default_branch) == (True, "develop")
