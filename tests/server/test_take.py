"""A runner asks for a stage and takes it in one request (`RunnerInfo.take_lease`), through the real app,
worker, SQLite/PostgreSQL and Redis; the two-request protocol (offer, then accept) is in test_flow."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

import server.api.runner as runner_api
from pipelines.runner_api import RUNNER_HEADER, RunnerInfo
from pipelines.status import Status
from server.db.models import Build, Stage
from server.scheduler import offer_and_rest
from server.services import Services
from server.settings import Settings
from server.store.builds import create_build, list_stages
from tests.server.conftest import make_settings
from tests.server.support import PushedRepo, register_repo, send_push
from tests.server.test_flow import INFO, PIPELINE, RUNNER, build_of, run_jobs

REQUEST = "/api/runner/stages/request"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """SQLite and PostgreSQL: a take locks rows there."""
    return make_settings(str(tmp_path), database_url)


async def pushed_build(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    """One build of PIPELINE, its stage pending."""
    before, sha = pushed.push({".ci.yml": PIPELINE}, "first")
    assert (await send_push(client, "octo", "app", before, sha, "first")).status_code == 202
    await run_jobs(hangar, redis_url)


def take(lease: str, *, retry: bool = False) -> dict[str, Any]:
    """A request body asking to take a stage under `lease`."""
    return {**INFO, "take_lease": lease, "retry": retry}


async def test_a_stage_is_offered_and_accepted_in_one_request(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    await pushed_build(client, hangar, redis_url, pushed)
    answer = await client.post(REQUEST, json=take("lease-1"), headers=RUNNER)
    assert answer.status_code == 200, answer.text
    taken = answer.json()
    assert taken["offer"] | {"stage_id": 0} == {
        "stage_id": 0, "version": 0, "repo": "octo/app", "build": 1, "name": "test"
    }  # fmt: skip
    assignment = taken["assignment"]
    assert assignment["lease"] == "lease-1" and assignment["stage_id"] == taken["offer"]["stage_id"]
    assert [step["name"] for step in assignment["plan"]["steps"]] == ["clone", "hello", "world"]
    assert assignment["link"] == "http://hangar.test/octo/app/1"
    build = await build_of(hangar, 1)
    async with hangar.reading() as session:
        stage = (await list_stages(session, build.id or 0))[0]
    assert build.status == Status.RUNNING and build.started
    assert (stage.status, stage.runner, stage.lease) == (Status.RUNNING, "scripted", "lease-1")
    renewed = await client.post(f"/api/runner/stages/{stage.id}/lease", headers=RUNNER)
    assert renewed.status_code == 200, "reports under the take's lease are the runner's"


async def test_a_lost_answer_asked_again_gets_the_same_stage_and_nobody_else_does(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    hangar.settings.poll_seconds = 0.3
    await pushed_build(client, hangar, redis_url, pushed)
    first = (await client.post(REQUEST, json=take("lease-1"), headers=RUNNER)).json()
    again = await client.post(REQUEST, json=take("lease-1", retry=True), headers=RUNNER)
    assert again.status_code == 200 and again.json() == first
    other_runner = {**RUNNER, RUNNER_HEADER: "b"}
    other = await client.post(REQUEST, json=take("lease-1", retry=True), headers=other_runner)
    assert other.status_code == 204
    assert (await client.post(REQUEST, json=take("lease-2", retry=True), headers=RUNNER)).status_code == 204
    assert (await client.post(REQUEST, json=take("lease-1"), headers=RUNNER)).status_code == 204


async def test_runners_taking_at_once_never_get_the_same_stage(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    hangar.settings.poll_seconds = 0.5
    await pushed_build(client, hangar, redis_url, pushed)
    answers = await asyncio.gather(
        *(
            client.post(REQUEST, json=take(f"lease-{i}"), headers={**RUNNER, RUNNER_HEADER: f"r{i}"})
            for i in range(4)
        )
    )
    assert sorted(answer.status_code for answer in answers) == [200, 204, 204, 204]


async def test_a_runner_without_the_labels_is_not_given_the_stage(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    hangar.settings.poll_seconds = 0.3
    labelled = PIPELINE + "node:\n  gpu: 'yes'\n"
    before, sha = pushed.push({".ci.yml": labelled}, "first")
    assert (await send_push(client, "octo", "app", before, sha, "first")).status_code == 202
    await run_jobs(hangar, redis_url)
    assert (await client.post(REQUEST, json=take("lease-1"), headers=RUNNER)).status_code == 204
    async with hangar.reading() as session:
        stage = (await list_stages(session, (await build_of(hangar, 1)).id or 0))[0]
    assert stage.status == Status.PENDING, "a stage the runner may not take is not taken"
    gpu = {**take("lease-1"), "labels": {"gpu": "yes"}}
    assert (await client.post(REQUEST, json=gpu, headers=RUNNER)).status_code == 200


def counted_reads(hangar: Services, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The os of the runner of each read of the pending stages from now on; long-polls wake only when told."""
    hangar.settings.poll_seconds = 30.0
    monkeypatch.setattr(runner_api, "RECHECK_SECONDS", 60.0)  # only the build's wake-up wakes them
    reads: list[str] = []
    read = offer_and_rest

    async def counted(session: Any, info: RunnerInfo, *args: Any) -> Any:
        reads.append(info.platform.os)
        return await read(session, info, *args)

    monkeypatch.setattr(runner_api, "offer_and_rest", counted)
    return reads


async def test_long_polls_woken_together_read_the_waiting_stages_once(
    client: httpx.AsyncClient,
    hangar: Services,
    redis_url: str,
    pushed: PushedRepo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads = counted_reads(hangar, monkeypatch)
    before, sha = pushed.push({".ci.yml": PIPELINE}, "first")
    assert (await send_push(client, "octo", "app", before, sha, "first")).status_code == 202
    polls = [
        asyncio.create_task(
            client.post(REQUEST, json=take(f"lease-{i}"), headers={**RUNNER, RUNNER_HEADER: f"r{i}"})
        )
        for i in range(3)
    ]
    await asyncio.sleep(0.5)  # each has looked (or seen that another looked after it came) and waits
    waiting = len(reads)
    await run_jobs(hangar, redis_url)  # the build's stage is pending: every waiting runner is woken
    done, others = await asyncio.wait(polls, return_when=asyncio.FIRST_COMPLETED, timeout=20)
    await asyncio.sleep(0.3)
    for poll in others:
        poll.cancel()
    await asyncio.gather(*others, return_exceptions=True)
    assert [poll.result().status_code for poll in done] == [200] and len(others) == 2
    assert len(reads) - waiting == 1, "the runners woken with the one that took it read the stages again"


async def test_a_new_stage_wakes_only_the_runners_that_may_take_it(
    client: httpx.AsyncClient,
    hangar: Services,
    redis_url: str,
    pushed: PushedRepo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads = counted_reads(hangar, monkeypatch)
    before, sha = pushed.push({".ci.yml": PIPELINE}, "first")
    assert (await send_push(client, "octo", "app", before, sha, "first")).status_code == 202
    windows = {**take("lease-w"), "platform": {"os": "windows", "arch": "amd64"}}
    other = asyncio.create_task(client.post(REQUEST, json=windows, headers={**RUNNER, RUNNER_HEADER: "w"}))
    linux = asyncio.create_task(
        client.post(REQUEST, json=take("lease-l"), headers={**RUNNER, RUNNER_HEADER: "l"})
    )
    await asyncio.sleep(0.5)  # each has looked and waits
    assert sorted(reads) == ["linux", "windows"]
    await run_jobs(hangar, redis_url)  # the build's linux stage is pending
    assert (await asyncio.wait_for(linux, 20)).status_code == 200
    await asyncio.sleep(0.3)
    assert not other.done() and reads.count("windows") == 1, "the windows runner was not woken"
    other.cancel()
    await asyncio.gather(other, return_exceptions=True)


async def test_a_stage_whose_plan_cannot_be_read_ends_in_error_and_the_take_goes_on_to_the_next(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    old = await register_repo(hangar, "octo", "old", "/nowhere")
    async with hangar.transaction() as (session, _changes):
        stage = Stage(build_id=0, repo_id=0, number=1, name="from-an-older-hangar", plan={"steps": "?"})
        await create_build(session, Build(repo_id=old.id or 0, number=1), [(stage, [])])
    await pushed_build(client, hangar, redis_url, pushed)  # a stage after it
    answer = await client.post(REQUEST, json=take("lease-1"), headers=RUNNER)
    assert answer.status_code == 200 and answer.json()["offer"]["repo"] == "octo/app", answer.text
    async with hangar.reading() as session:
        unreadable = (await list_stages(session, stage.build_id))[0]
    assert unreadable.status == Status.ERROR and "plan could not be read" in unreadable.error
