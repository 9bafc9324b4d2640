"""A blocked build on its page: the reason it waits, Approve and Decline for people who may build; and a
stage that waits for its pipeline's concurrency limit saying why (on the page and in the API)."""

from __future__ import annotations

import httpx

from server.services import Services
from server.store.builds import find_build, list_stages, update_stage
from tests.server.api.seed import Seeded, StageSeed, add_build, add_repo
from tests.server.web.conftest import add_person, sign_in

REASON = "waiting for approval: every build of this repository is approved first"
BLOCKED = StageSeed("test", "blocked", steps=(("clone", "pending"), ("test", "pending")))


async def blocked_build(hangar: Services) -> Seeded:
    repo = await add_repo(hangar, approval="all")
    stages = [BLOCKED, StageSeed("deploy", "blocked", depends_on=["test"])]
    return await add_build(hangar, repo, "blocked", stages, error=REASON)


async def states(hangar: Services, seeded: Seeded) -> tuple[str, str, list[str]]:
    async with hangar.reading() as session:
        build = await find_build(session, seeded.build.repo_id, seeded.build.number)
        assert build is not None
        stages = await list_stages(session, build.id or 0)
    return build.status, build.error, [stage.status for stage in stages]


async def test_a_blocked_build_says_why_and_is_approved_from_its_page(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    seeded = await blocked_build(hangar)
    await add_person(hangar, "ann")
    person = await sign_in(client, "ann")
    page = (await client.get("/octo/hello/1")).text
    approval = page[page.index('id="approval"') : page.index('id="build-error"')]
    assert REASON in approval
    assert 'action="/octo/hello/1/approve"' in approval and 'action="/octo/hello/1/decline"' in approval
    assert 'id="cancel-form" hidden' in page  # declining is how a blocked build is ended
    answer = await client.post("/octo/hello/1/approve", data={"csrf": person.csrf})
    assert answer.status_code == 303 and answer.headers["location"] == "/octo/hello/1"
    after = ("pending", "approved by ann", ["pending", "waiting_on_dependencies"])
    assert await states(hangar, seeded) == after
    shown = (await client.get("/octo/hello/1")).text
    assert 'id="approval"' not in shown
    assert '<pre class="note build-error" id="build-error" role="status">approved by ann</pre>' in shown
    again = await client.post("/octo/hello/1/approve", data={"csrf": person.csrf})
    assert again.status_code == 409 and "only a blocked build is approved or declined" in again.text


async def test_a_declined_build_runs_nothing(client: httpx.AsyncClient, hangar: Services) -> None:
    seeded = await blocked_build(hangar)
    await add_person(hangar, "ann")
    person = await sign_in(client, "ann")
    answer = await client.post("/octo/hello/1/decline", data={"csrf": person.csrf})
    assert answer.status_code == 303
    assert await states(hangar, seeded) == ("declined", "declined by ann", ["skipped", "skipped"])
    shown = (await client.get("/octo/hello/1")).text
    assert "declined by ann" in shown and "Approve" not in shown


async def test_only_people_who_may_build_approve(client: httpx.AsyncClient, hangar: Services) -> None:
    seeded = await blocked_build(hangar)
    page = (await client.get("/octo/hello/1")).text
    assert REASON in page and "Approve</button>" not in page and "sign in" in page
    for action in ("approve", "decline"):
        assert (await client.post(f"/octo/hello/1/{action}", data={})).status_code == 403
    await add_person(hangar, "ann")
    await sign_in(client, "ann")
    assert (await client.post("/octo/hello/1/approve", data={"csrf": "forged"})).status_code == 403
    assert (await states(hangar, seeded))[0] == "blocked"


async def test_a_stage_waiting_for_its_concurrency_limit_says_why(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await add_repo(hangar)
    running = await add_build(hangar, repo, "running", [StageSeed("deploy", "running")])
    waiting = await add_build(hangar, repo, "pending", [StageSeed("deploy", "pending")])
    async with hangar.transaction() as (session, _changes):
        for stage in (*running.stages, *waiting.stages):
            stage.concurrency_limit = 1
            await update_stage(session, stage)
    reason = "waiting: 1 of 1 'deploy' already running in #1"
    page = (await client.get("/octo/hello/2")).text
    as_html = reason.replace("'", "&#39;")
    assert f'<p class="stage-waiting">{as_html}</p>' in page
    assert '<p class="stage-waiting" hidden></p>' in (await client.get("/octo/hello/1")).text
    detail = (await client.get("/api/repos/octo/hello/builds/2")).json()
    assert detail["stages"][0]["waiting"] == reason
    assert (await client.get("/api/repos/octo/hello/builds/1")).json()["stages"][0]["waiting"] == ""
