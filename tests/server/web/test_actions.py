"""Cancel and restart from the build page: for signed-in people, with the session's CSRF token only."""

from __future__ import annotations

import httpx

from server.services import Services
from server.sessions import CSRF_HEADER
from server.store.builds import find_build, list_stages
from tests.server.api.seed import StageSeed, add_build, add_repo
from tests.server.web.conftest import add_person, sign_in

RUNNING = StageSeed("backend", "running", steps=(("clone", "success"), ("test", "running")))


async def _status(hangar: Services, repo_id: int, number: int) -> str:
    async with hangar.reading() as session:
        build = await find_build(session, repo_id, number)
    assert build is not None
    return build.status


async def test_cancel_from_the_page_kills_the_build(client: httpx.AsyncClient, hangar: Services) -> None:
    repo = await add_repo(hangar)
    await add_build(hangar, repo, "running", [RUNNING, StageSeed("deploy", "waiting_on_dependencies")])
    await add_person(hangar, "ann")
    person = await sign_in(client, "ann")
    page = (await client.get("/octo/hello/1")).text
    assert 'action="/octo/hello/1/cancel"' in page
    answer = await client.post("/octo/hello/1/cancel", data={"csrf": person.csrf})
    assert answer.status_code == 303 and answer.headers["location"] == "/octo/hello/1?cancelling"
    shown = await client.get(answer.headers["location"])
    assert "Cancelling: running steps are being stopped" in shown.text
    async with hangar.reading() as session:
        stages = await list_stages(session, (await find_build(session, repo.id or 0, 1)).id or 0)  # type: ignore[union-attr]
    assert [stage.status for stage in stages][1] == "skipped"  # the waiting stage never runs


async def test_a_write_without_the_csrf_token_changes_nothing(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    await add_build(hangar, repo, "running", [RUNNING])
    await add_person(hangar, "ann")
    person = await sign_in(client, "ann")
    for data in ({}, {"csrf": "forged"}, {"csrf": person.csrf[:-1] + "x"}):
        answer = await client.post("/octo/hello/1/cancel", data=data)
        assert answer.status_code == 403
        assert "CSRF" in answer.text
    # the REST API with the cookie (what a forged cross-site request would carry) needs the header too
    assert (await client.delete("/api/repos/octo/hello/builds/1")).status_code == 403
    assert await _status(hangar, repo.id or 0, 1) == "running"
    answer = await client.delete("/api/repos/octo/hello/builds/1", headers={CSRF_HEADER: person.csrf})
    assert answer.status_code == 200


async def test_anonymous_visitors_may_not_cancel_or_restart(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    await add_build(hangar, repo, "running", [RUNNING])
    for action in ("cancel", "restart"):
        answer = await client.post(f"/octo/hello/1/{action}", data={})
        assert answer.status_code == 403
    assert await _status(hangar, repo.id or 0, 1) == "running"


async def test_restart_makes_a_new_build_and_shows_it(client: httpx.AsyncClient, hangar: Services) -> None:
    repo = await add_repo(hangar)
    await add_build(hangar, repo, "failure", [StageSeed("backend", "failure")], finished=1_700_000_100.0)
    await add_person(hangar, "ann")
    person = await sign_in(client, "ann")
    page = (await client.get("/octo/hello/1")).text
    assert 'name="stage" value="1"' in page  # a finished stage offers its own restart
    answer = await client.post("/octo/hello/1/restart", data={"csrf": person.csrf})
    assert answer.status_code == 303 and answer.headers["location"] == "/octo/hello/2"
    async with hangar.reading() as session:
        restarted = await find_build(session, repo.id or 0, 2)
    assert restarted is not None and restarted.parent == 1


async def test_restart_of_one_stage_runs_it_again_in_the_same_build(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    seeded = await add_build(
        hangar,
        repo,
        "failure",
        [StageSeed("a", "success"), StageSeed("b", "failure")],
        finished=1_700_000_100.0,
    )
    await add_person(hangar, "ann")
    person = await sign_in(client, "ann")
    answer = await client.post("/octo/hello/1/restart", data={"csrf": person.csrf, "stage": "2"})
    assert answer.status_code == 303 and answer.headers["location"] == "/octo/hello/1"
    async with hangar.reading() as session:
        stages = await list_stages(session, seeded.build.id or 0)
    assert [stage.status for stage in stages] == ["success", "pending"]
    finished_already = await client.post("/octo/hello/1/cancel", data={"csrf": person.csrf})
    assert finished_already.status_code in (303, 409)
