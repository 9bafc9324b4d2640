"""Permissions from the forge, one rule for the API and the pages: pull reads, push builds, admin configures;
a private repository is invisible (404) to everyone else; a revoked collaborator loses access once the kept
answer expires."""

from __future__ import annotations

import asyncio
import time

from server.db.models import Repo
from server.services import Services
from server.store.repos import find_repo
from tests.server.accounts.conftest import PERMISSION_SECONDS, Browsers, Visitor
from tests.server.api.seed import StageSeed, add_build
from tests.server.forges.standin.forge import StandinForge


async def activated(
    hangar: Services, forge: StandinForge, browsers: Browsers
) -> tuple[Repo, dict[str, Visitor]]:
    """carol's private carol/app, activated by her, with a finished build; bob may push, dave pull."""
    for login in ("dave", "erin"):
        forge.add_user(login)
    forge_repo = forge.add_repo("carol", "app", "https://forge.example/carol/app.git", private=True)
    forge_repo.access |= {"bob": "push", "dave": "pull"}
    people = {login: await browsers.signed_in(login) for login in ("carol", "bob", "dave", "erin")}
    people["anonymous"] = browsers.visitor()
    carol = people["carol"]
    assert (
        await carol.http.post("/api/repos/carol/app", headers={"X-CSRF-Token": carol.csrf})
    ).status_code == 201
    async with hangar.reading() as session:
        repo = await find_repo(session, "carol", "app")
    assert repo is not None
    await add_build(
        hangar, repo, "success", [StageSeed("test", "success", (("clone", "success"),))], finished=5.0
    )
    return repo, people


def writes(visitor: Visitor) -> dict[str, str]:
    return {"X-CSRF-Token": visitor.csrf}


async def test_each_level_of_the_forge_gives_its_rights_in_the_api_and_the_pages(
    hangar: Services, forge: StandinForge, browsers: Browsers
) -> None:
    _repo, people = await activated(hangar, forge, browsers)
    api = "/api/repos/carol/app"
    reading = [api, f"{api}/builds/1", f"{api}/builds/1/logs/1/1", "/carol/app", "/carol/app/1",
               "/carol/app/badge.svg"]  # fmt: skip
    for login, expected in (("carol", 200), ("bob", 200), ("dave", 200), ("erin", 404), ("anonymous", 404)):
        for path in reading:
            assert (await people[login].http.get(path)).status_code == expected, (login, path)
    for login, expected in (("dave", 403), ("erin", 404), ("bob", 201)):
        restart = await people[login].http.post(
            "/api/repos/carol/app/builds/1", headers=writes(people[login])
        )
        assert restart.status_code == expected, (login, restart.text)
    assert "Restart" not in (await people["dave"].http.get("/carol/app/1")).text
    assert "Restart" in (await people["bob"].http.get("/carol/app/1")).text
    change = {"timeout": 30}
    for login, expected in (("bob", 403), ("dave", 403), ("erin", 404), ("carol", 200)):
        patched = await people[login].http.patch(
            "/api/repos/carol/app", json=change, headers=writes(people[login])
        )
        assert patched.status_code == expected, (login, patched.text)
    assert (await people["bob"].http.get("/carol/app/settings")).status_code == 403
    assert (await people["carol"].http.get("/carol/app/settings")).status_code == 200
    assert [repo["name"] for repo in (await people["dave"].http.get("/api/repos")).json()] == ["app"]
    assert (await people["erin"].http.get("/api/repos")).json() == []
    assert "carol/app" not in (await people["erin"].http.get("/")).text


async def test_a_revoked_collaborator_loses_access_when_the_kept_answer_expires(
    hangar: Services, forge: StandinForge, browsers: Browsers
) -> None:
    _repo, people = await activated(hangar, forge, browsers)
    bob = people["bob"].http
    assert (await bob.get("/api/repos/carol/app")).status_code == 200
    forge.find("carol", "app").access.pop("bob")  # type: ignore[union-attr]
    deadline = time.monotonic() + PERMISSION_SECONDS + 10
    while (await bob.get("/api/repos/carol/app")).status_code == 200:
        assert time.monotonic() < deadline, "still readable long after the kept permission expired"
        await asyncio.sleep(0.2)
    assert (await bob.get("/carol/app/1")).status_code == 404
