"""Running a build from the repository page and promoting one from the build page: real git, SQLite, Redis;
a refused form comes back filled in, saying why."""

from __future__ import annotations

import httpx

from server.db.models import Build
from server.services import Services
from server.store.builds import find_build, update_build
from tests.server.support import PushedRepo
from tests.server.web.conftest import Person, add_person, sign_in

PIPELINE = """\
kind: pipeline
name: deploy
steps:
  - name: show
    image: busybox
    commands: [echo "$VERSION to $DRONE_DEPLOY_TO"]
"""


async def stored(hangar: Services, number: int) -> Build:
    async with hangar.reading() as session:
        build = await find_build(session, 1, number)
    assert build is not None
    return build


async def pushed_and_signed_in(client: httpx.AsyncClient, hangar: Services, pushed: PushedRepo) -> Person:
    """The pipeline pushed; ann, who may build, signed in."""
    pushed.push({".ci.yml": PIPELINE})
    await add_person(hangar, "ann")
    return await sign_in(client, "ann")


async def test_a_build_runs_from_the_repository_page_with_its_parameters(
    client: httpx.AsyncClient, hangar: Services, pushed: PushedRepo
) -> None:
    person = await pushed_and_signed_in(client, hangar, pushed)
    page = (await client.get("/octo/app")).text
    assert "Run a build" in page and 'action="/octo/app/run"' in page
    assert 'name="branch" value="main"' in page  # the default branch, filled in
    form = {"csrf": person.csrf, "branch": "main", "parameters": "VERSION=1.2.3\r\n\r\nNOTE=a = b\r\n"}
    answer = await client.post("/octo/app/run", data=form)
    assert answer.status_code == 303 and answer.headers["location"] == "/octo/app/1"
    build = await stored(hangar, 1)
    assert (build.event, build.sha, build.sender, build.status) == ("custom", pushed.head, "ann", "pending")
    assert build.parameters == {"VERSION": "1.2.3", "NOTE": "a = b"}
    shown = (await client.get("/octo/app/1")).text
    assert "<code>VERSION=1.2.3</code>" in shown and "<code>NOTE=a = b</code>" in shown
    assert "custom" in shown and "Started by</dt><dd>ann" in shown
    assert "Approve" not in shown  # started by someone who may build: it never waits


async def test_a_wrong_run_form_comes_back_filled_in_saying_why(
    client: httpx.AsyncClient, hangar: Services, pushed: PushedRepo
) -> None:
    person = await pushed_and_signed_in(client, hangar, pushed)
    for branch, parameters, status, words in (
        ("main", "VERSION 1.2", 400, "line 1: write KEY=VALUE"),
        ("main", "DRONE_BRANCH=x", 400, "would hide one of Hangar&#39;s own variables"),
        ("main", "9LIVES=x", 400, "is not a variable name"),
        ("no-such-branch", "", 404, "no-such-branch"),
    ):
        form = {"csrf": person.csrf, "branch": branch, "parameters": parameters}
        answer = await client.post("/octo/app/run", data=form)
        assert answer.status_code == status, answer.text
        assert words in answer.text
        assert f'name="branch" value="{branch}"' in answer.text and parameters in answer.text
        assert '<details class="card run-build" id="run-build" open>' in answer.text
    async with hangar.reading() as session:
        assert await find_build(session, 1, 1) is None


async def test_only_people_who_may_build_run_builds(
    client: httpx.AsyncClient, hangar: Services, pushed: PushedRepo
) -> None:
    pushed.push({".ci.yml": PIPELINE})
    assert "Run a build" not in (await client.get("/octo/app")).text
    assert (await client.post("/octo/app/run", data={"branch": "main"})).status_code == 403
    await add_person(hangar, "ann")
    await sign_in(client, "ann")
    assert (await client.post("/octo/app/run", data={"branch": "main", "csrf": "forged"})).status_code == 403
    async with hangar.reading() as session:
        assert await find_build(session, 1, 1) is None


async def test_a_finished_build_is_promoted_or_rolled_back_to_a_target(
    client: httpx.AsyncClient, hangar: Services, pushed: PushedRepo
) -> None:
    person = await pushed_and_signed_in(client, hangar, pushed)
    await client.post("/octo/app/run", data={"csrf": person.csrf, "branch": "main"})
    running = (await client.get("/octo/app/1")).text
    assert 'id="promote" hidden' in running  # not while it may still run
    async with hangar.transaction() as (session, _changes):
        first = await find_build(session, 1, 1)
        assert first is not None
        first.status, first.started, first.finished = "success", 1_700_000_000.0, 1_700_000_060.0
        await update_build(session, first)
    page = (await client.get("/octo/app/1")).text
    assert 'action="/octo/app/1/promote"' in page and 'id="promote" hidden' not in page
    form = {"csrf": person.csrf, "target": "production", "parameters": "VERSION=2", "event": "promote"}
    answer = await client.post("/octo/app/1/promote", data=form)
    assert answer.status_code == 303 and answer.headers["location"] == "/octo/app/2"
    promoted = await stored(hangar, 2)
    assert (promoted.event, promoted.deploy_to, promoted.parent) == ("promote", "production", 1)
    assert promoted.sha == pushed.head
    assert promoted.parameters == {"VERSION": "2"}
    shown = (await client.get("/octo/app/2")).text
    assert 'promote → <strong class="target">production</strong>' in shown
    assert "Promotion of</dt>" in shown and 'href="/octo/app/1"' in shown
    listed = (await client.get("/octo/app")).text
    assert 'promote → <strong class="target">production</strong>' in listed
    rollback = form | {"target": "staging", "event": "rollback", "parameters": ""}
    answer = await client.post("/octo/app/1/promote", data=rollback)
    assert answer.status_code == 303 and answer.headers["location"] == "/octo/app/3"
    rolled = await stored(hangar, 3)
    assert (rolled.event, rolled.deploy_to, rolled.parameters) == ("rollback", "staging", {})
    assert "Rollback to</dt>" in (await client.get("/octo/app/3")).text


async def test_a_promotion_without_a_target_comes_back_saying_so(
    client: httpx.AsyncClient, hangar: Services, pushed: PushedRepo
) -> None:
    person = await pushed_and_signed_in(client, hangar, pushed)
    await client.post("/octo/app/run", data={"csrf": person.csrf, "branch": "main"})
    for fields, words in (
        ({"target": " ", "event": "promote"}, "a promote needs a target"),
        ({"target": "prod", "event": "deploy"}, "not a deployment event"),
        ({"target": "prod", "event": "promote", "parameters": "CI=false"}, "would hide"),
    ):
        answer = await client.post("/octo/app/1/promote", data={"csrf": person.csrf} | fields)
        assert answer.status_code == 400 and words in answer.text.replace("&#39;", "'")
        assert '<details class="card promote" id="promote"' in answer.text and " open>" in answer.text
    async with hangar.reading() as session:
        assert await find_build(session, 1, 2) is None
    client.cookies.clear()  # signed out
    assert (await client.post("/octo/app/1/promote", data={"target": "prod"})).status_code == 403
    assert 'id="promote"' not in (await client.get("/octo/app/1")).text
