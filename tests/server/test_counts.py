"""What a 1-step build costs the server on SQLite, counted (statements, transactions, requests, jobs), the
runner scripted over HTTP as the real one reports: an upper bound per phase, so that a change adding
statements to a build's hot path is noticed (counts, not timings: they do not depend on the machine)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from pipelines.runner_api import RunnerInfo
from pipelines.status import Status
from server.app import create_app
from server.db.models import Build, Stage, Step
from server.jobs import create_worker
from server.scheduler import offer_and_rest
from server.services import Services
from server.store.builds import create_build
from tests.server.counting import OTHER, CountedApp, Counts, counting
from tests.server.support import PushedRepo, register_repo, send_push
from tests.server.test_flow import INFO, RUNNER

PIPELINE = "kind: pipeline\nname: test\nsteps:\n  - name: hi\n    image: busybox\n    commands: [echo hi]\n"
STAGE = "/api/runner/stages/{n}"
BOUNDS = {
    "POST /hook": (4, 1),
    "job trigger_build": (15, 2),
    "POST /api/runner/stages/request": (7, 1),
    f"POST {STAGE}/reports": (20, 2),
}
"""Per phase: at most so many statements (PRAGMAs aside) and transactions, as measured when written."""


@pytest.fixture
async def counted(hangar: Services, redis_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, Counts]]:
    """A client of the app whose requests, statements and jobs are counted (the worker's too)."""
    counts = Counts()
    worker = create_worker(hangar.settings, redis_url, hangar, burst=True, handle_signals=False)
    app = CountedApp(create_app(hangar.settings, redis_url, hangar), counts)
    with counting(hangar, worker, counts):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hangar.test"
        ) as client:
            client.extensions = {"worker": worker}  # type: ignore[attr-defined]
            yield client, counts
    await worker.close()


def step(number: int, name: str, status: Status, **more: Any) -> dict[str, Any]:
    """A step report item."""
    return {"step": {"number": number, "name": name, "status": status.value, **more}}


async def test_a_one_step_build_costs_at_most_so_many_statements(
    counted: tuple[httpx.AsyncClient, Counts], pushed: PushedRepo
) -> None:
    client, counts = counted
    before, sha = pushed.push({".ci.yml": PIPELINE}, "first")
    assert (await send_push(client, "octo", "app", before, sha, "first")).status_code == 202
    await client.extensions["worker"].main()  # type: ignore[attr-defined]
    take = {**INFO, "take_lease": "lease-1"}  # offered and accepted in one request, as the runner asks
    taken = await client.post("/api/runner/stages/request", json=take, headers=RUNNER)
    assert taken.status_code == 200, taken.text
    stage = f"/api/runner/stages/{taken.json()['offer']['stage_id']}"
    stage_state = {"number": 1, "name": "test", "started": 1.0}
    batches = [  # the clone's reports, then the step's, which the stage's end joins (a short step)
        [
            {"stage": {**stage_state, "status": "running"}},
            step(1, "clone", Status.RUNNING, started=1.0),
            {"logs": {"step": 1, "first": 0, "lines": [[0.1, "+ git init"], [0.2, "cloned"]]}},
            step(1, "clone", Status.SUCCESS, started=1.0, finished=2.0, exit_code=0),
        ],
        [
            step(2, "hi", Status.RUNNING, started=2.0),
            {"logs": {"step": 2, "first": 0, "lines": [[2.1, "+ echo hi"], [2.2, "hi"]]}},
            step(2, "hi", Status.SUCCESS, started=2.0, finished=3.0, exit_code=0),
            {"stage": {**stage_state, "status": "success", "finished": 3.0}},
        ],
    ]
    for items in batches:
        answer = await client.post(f"{stage}/reports", json={"items": items}, headers=RUNNER)
        assert answer.status_code == 200, answer.text
    build = (await client.get("/api/repos/octo/app/builds/1")).json()
    assert build["status"] == "success"

    measured = {
        phase: (counts.sql(phase) - counts.sql(phase, "PRAGMA"), counts.sql(phase, "BEGIN"))
        for phase in BOUNDS
    }
    print(measured)
    assert {
        phase: (statements, transactions)
        for phase, (statements, transactions) in measured.items()
        if statements > BOUNDS[phase][0] or transactions > BOUNDS[phase][1]
    } == {}
    assert counts.queued == {("POST /hook", "trigger_build"): 1}


async def test_an_offer_reads_few_of_many_waiting_stages_and_still_finds_one_behind_them(
    hangar: Services,
) -> None:
    repo = await register_repo(hangar, "octo", "gpu", "/nowhere")
    stages: list[tuple[Stage, list[Step]]] = [
        (Stage(build_id=0, repo_id=0, number=n, name=f"gpu{n}", labels={"gpu": "yes"}), [])
        for n in range(1, 31)
    ]
    stages.append((Stage(build_id=0, repo_id=0, number=31, name="plain"), []))
    async with hangar.transaction() as (session, _changes):
        await create_build(session, Build(repo_id=repo.id or 0, number=1), stages)
    with counting(hangar) as counts:
        async with hangar.reading() as session:
            gpu = (await offer_and_rest(session, RunnerInfo(labels={"gpu": "yes"})))[0]
        assert counts.rows[OTHER] <= len(stages) // 3, "a burst's every long-poll read the whole queue"
        async with hangar.reading() as session:
            plain = (await offer_and_rest(session, RunnerInfo()))[0]
    assert gpu is not None and gpu.name == "gpu1"
    assert plain is not None and plain.name == "plain"
