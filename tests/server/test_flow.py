"""From a signed webhook to a finished build, through the real app, worker, SQLite and Redis.

The runner here is scripted over HTTP; the runner daemon's tests and the end-to-end tests use the real one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlmodel import select

from pipelines.report import StageReport, StepReport
from pipelines.runner_api import LEASE_HEADER, RUNNER_HEADER, LogBatch, ReportBatch, ReportItem
from pipelines.status import Status
from server.db.models import Build, Delivery, Secret, Stage
from server.jobs import create_worker, reap_leases
from server.keys import HEARTBEAT_KEY
from server.progress import cancel_build
from server.services import Services
from server.store.builds import find_build, list_stages, list_steps
from server.store.logs import lines_json, read_chunk_texts, read_lines
from tests.server.conftest import RUNNER_SECRET
from tests.server.support import PushedRepo, git, github_headers, github_pull_request, github_push, send_push

PIPELINE = """\
kind: pipeline
name: test
steps:
  - name: hello
    image: busybox
    commands: [echo hello]
  - name: world
    image: busybox
    commands: [echo world]
"""

RUNNER = {"Authorization": f"Bearer {RUNNER_SECRET}", RUNNER_HEADER: "scripted", LEASE_HEADER: "lease-1"}
INFO = {"platform": {"os": "linux", "arch": "amd64"}, "labels": {}}


async def run_jobs(hangar: Services, redis_url: str) -> None:
    """Run every queued job (trigger, statuses, emails) to the end."""
    worker = create_worker(hangar.settings, redis_url, hangar, burst=True, handle_signals=False)
    try:
        await worker.main()
    finally:
        await worker.close()


async def build_of(hangar: Services, number: int) -> Build:
    async with hangar.reading() as session:
        build = await find_build(session, 1, number)
    assert build is not None
    return build


async def take_stage(client: httpx.AsyncClient) -> dict[str, Any]:
    offer = await client.post("/api/runner/stages/request", json=INFO, headers=RUNNER)
    assert offer.status_code == 200, offer.text
    accepted = await client.post(
        f"/api/runner/stages/{offer.json()['stage_id']}/accept",
        json={"version": offer.json()["version"], "lease": "lease-1"},
        headers=RUNNER,
    )
    assert accepted.status_code == 200, accepted.text
    answer: dict[str, Any] = accepted.json()
    return answer


async def test_a_push_becomes_a_build_that_a_runner_takes_runs_and_finishes(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    before, sha = pushed.push({".ci.yml": PIPELINE}, "first")
    answer = await send_push(client, "octo", "app", before, sha, "first")
    assert answer.status_code == 202, answer.text
    await run_jobs(hangar, redis_url)
    build = await build_of(hangar, 1)
    assert (build.status, build.sha, build.event, build.branch) == ("pending", sha, "push", "main")

    offer = (await client.post("/api/runner/stages/request", json=INFO, headers=RUNNER)).json()
    assignment = await take_stage_from(client, offer)
    plan = assignment["plan"]
    assert [step["name"] for step in plan["steps"]] == ["clone", "hello", "world"]
    assert plan["clone"]["sha"] == sha and plan["clone"]["remote_url"] == str(pushed.bare)
    assert assignment["link"] == "http://hangar.test/octo/app/1"
    accept_url = f"/api/runner/stages/{offer['stage_id']}/accept"
    same = {"version": offer["version"], "lease": "lease-1"}
    again = await client.post(accept_url, json=same, headers=RUNNER)
    assert again.status_code == 200 and again.json()["lease"] == "lease-1", "a lost answer, asked again"
    other_slot = await client.post(accept_url, json={**same, "lease": "lease-2"}, headers=RUNNER)
    other_runner = await client.post(accept_url, json=same, headers={**RUNNER, RUNNER_HEADER: "b"})
    assert other_slot.status_code == other_runner.status_code == 409
    stale = {**RUNNER, LEASE_HEADER: "an-earlier-lease"}
    refused = await client.post(f"/api/runner/stages/{offer['stage_id']}/lease", headers=stale)
    assert refused.status_code == 409, "a report from an earlier run of the stage"

    stage_id = offer["stage_id"]
    hello = StepReport(number=2, name="hello", status=Status.RUNNING, started=1.0)
    assert (
        await client.post(
            f"/api/runner/stages/{stage_id}/steps", content=hello.model_dump_json(), headers=RUNNER
        )
    ).status_code == 204
    first = {"step": 2, "first": 0, "lines": [[0.1, "line 0"], [0.2, "line 1"]]}
    retried = {"step": 2, "first": 1, "lines": [[0.2, "line 1"], [0.3, "line 2"]]}
    gap = {"step": 2, "first": 9, "lines": [[0.4, "line 9"]]}
    for batch, expected_next in ((first, 2), (first, 2), (retried, 3), (gap, 3)):
        ack = await client.post(f"/api/runner/stages/{stage_id}/logs", json=batch, headers=RUNNER)
        assert ack.json() == {"next": expected_next}
    done = StageReport(
        number=1, name="test", status=Status.SUCCESS, started=1.0, finished=2.0,
        steps=[
            StepReport(number=1, name="clone", status=Status.SUCCESS, exit_code=0),
            StepReport(number=2, name="hello", status=Status.SUCCESS, exit_code=0),
            StepReport(number=3, name="world", status=Status.SUCCESS, exit_code=0),
        ],
    )  # fmt: skip
    assert (
        await client.post(f"/api/runner/stages/{stage_id}", content=done.model_dump_json(), headers=RUNNER)
    ).status_code == 204

    build = await build_of(hangar, 1)
    assert build.status == "success" and build.finished is not None
    async with hangar.reading() as session:
        steps = await list_steps(session, [stage_id])
        assert [(s.name, s.status) for s in steps] == [
            ("clone", "success"),
            ("hello", "success"),
            ("world", "success"),
        ]
        lines = await read_lines(session, steps[1].id or 0)
    assert [(pos, text) for pos, _, text in lines] == [(0, "line 0"), (1, "line 1"), (2, "line 2")]
    late = await client.post(f"/api/runner/stages/{stage_id}/logs", json=first, headers=RUNNER)
    assert late.status_code == 409, "a finished stage is no longer the runner's"


async def pushed_and_taken(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo, message: str
) -> dict[str, Any]:
    """A push of PIPELINE becomes a build whose stage the scripted runner takes: its assignment."""
    before, sha = pushed.push({".ci.yml": PIPELINE})
    await send_push(client, "octo", "app", before, sha, message)
    await run_jobs(hangar, redis_url)
    return await take_stage(client)


async def take_stage_from(client: httpx.AsyncClient, offer: dict[str, Any]) -> dict[str, Any]:
    accepted = await client.post(
        f"/api/runner/stages/{offer['stage_id']}/accept",
        json={"version": offer["version"], "lease": "lease-1"},
        headers=RUNNER,
    )
    assert accepted.status_code == 200, accepted.text
    answer: dict[str, Any] = accepted.json()
    return answer


async def test_a_bad_signature_gets_401_and_stores_nothing(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    before, sha = pushed.push({".ci.yml": PIPELINE})
    body = github_push("octo", "app", before, sha, "x")
    for headers in (
        github_headers(body, secret="wrong"),
        {k: v for k, v in github_headers(body).items() if "Signature" not in k},
    ):
        assert (await client.post("/hook", content=body, headers=headers)).status_code == 401
    tampered = body.replace(b'"x"', b'"y"')
    assert (await client.post("/hook", content=tampered, headers=github_headers(body))).status_code == 401
    await run_jobs(hangar, redis_url)
    async with hangar.reading() as session:
        assert (await session.exec(select(Delivery))).all() == []
        assert (await session.exec(select(Build))).all() == []


async def test_webhook_answers(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    before, sha = pushed.push({".ci.yml": PIPELINE})
    body = github_push("octo", "app", before, sha, "x")
    headers = github_headers(body)
    assert (await client.post("/hook", content=body, headers=headers)).status_code == 202
    assert (await client.post("/hook", content=body, headers=headers)).json() == {
        "duplicate": headers["X-GitHub-Delivery"]
    }
    other = github_push("someone", "else", before, sha, "x")
    assert (await client.post("/hook", content=other, headers=github_headers(other))).status_code == 404
    skipped = github_push("octo", "app", before, sha, "docs [skip ci]")
    answer = await client.post("/hook", content=skipped, headers=github_headers(skipped))
    assert answer.status_code == 202 and "skip" in answer.json()["ignored"]
    issue = b'{"action": "opened", "repository": {"full_name": "octo/app"}}'
    answer = await client.post("/hook", content=issue, headers=github_headers(issue, event="issues"))
    assert answer.status_code == 202 and "ignored" in answer.json()
    huge = b"{" + b" " * (hangar.settings.max_hook_bytes + 1) + b"}"
    assert (await client.post("/hook", content=huge, headers=github_headers(huge))).status_code == 413
    assert (
        await client.post("/hook", content=b"{}", headers={"Content-Type": "application/json"})
    ).status_code == 400
    await run_jobs(hangar, redis_url)
    async with hangar.reading() as session:
        assert len((await session.exec(select(Build))).all()) == 1, "a redelivery builds nothing twice"


async def test_a_broken_pipeline_file_makes_an_error_build_naming_the_line(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    broken = PIPELINE.replace(
        "    commands: [echo world]", "    commands: [echo world]\n    depends_on: [helo]"
    )
    before, sha = pushed.push({".ci.yml": broken})
    assert (await send_push(client, "octo", "app", before, sha, "oops")).status_code == 202
    await run_jobs(hangar, redis_url)
    build = await build_of(hangar, 1)
    assert build.status == "error"
    assert ".ci.yml:10:" in build.error and "helo" in build.error, build.error


async def test_a_drone_file_is_read_when_there_is_no_ci_file(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    before, sha = pushed.push({".drone.yml": PIPELINE})
    await send_push(client, "octo", "app", before, sha, "drone")
    await run_jobs(hangar, redis_url)
    async with hangar.reading() as session:
        stages = await list_stages(session, (await build_of(hangar, 1)).id or 0)
    assert [stage.name for stage in stages] == ["test"]


STAGES = """\
kind: pipeline
name: build
steps: [{name: b, image: busybox, commands: [true]}]
---
kind: pipeline
name: deploy
depends_on: [build]
steps: [{name: d, image: busybox, commands: [true]}]
---
kind: pipeline
name: cleanup
depends_on: [build]
trigger: {status: [failure]}
steps: [{name: c, image: busybox, commands: [true]}]
"""


async def test_a_finished_stage_releases_those_waiting_on_it(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    before, sha = pushed.push({".ci.yml": STAGES})
    await send_push(client, "octo", "app", before, sha, "stages")
    await run_jobs(hangar, redis_url)
    build = await build_of(hangar, 1)
    async with hangar.reading() as session:
        statuses = [(s.name, s.status) for s in await list_stages(session, build.id or 0)]
    waiting = "waiting_on_dependencies"
    assert statuses == [("build", "pending"), ("deploy", waiting), ("cleanup", waiting)]
    assignment = await take_stage(client)
    assert assignment["plan"]["stage"]["name"] == "build"
    done = StageReport(number=1, name="build", status=Status.SUCCESS, finished=5.0)
    await client.post(
        f"/api/runner/stages/{assignment['stage_id']}", content=done.model_dump_json(), headers=RUNNER
    )
    async with hangar.reading() as session:
        statuses = [(s.name, s.status) for s in await list_stages(session, build.id or 0)]
    assert statuses == [("build", "success"), ("deploy", "pending"), ("cleanup", "skipped")]
    assert (await take_stage(client))["plan"]["stage"]["name"] == "deploy"


async def test_two_runners_never_get_the_same_stage(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    before, sha = pushed.push({".ci.yml": PIPELINE})
    await send_push(client, "octo", "app", before, sha, "race")
    await run_jobs(hangar, redis_url)
    offer = (await client.post("/api/runner/stages/request", json=INFO, headers=RUNNER)).json()
    url = f"/api/runner/stages/{offer['stage_id']}/accept"
    answers = await asyncio.gather(
        *(
            client.post(url, json={"version": offer["version"]}, headers={**RUNNER, RUNNER_HEADER: f"r{i}"})
            for i in range(6)
        )
    )
    assert sorted(answer.status_code for answer in answers) == [200, 409, 409, 409, 409, 409]
    empty = await client.post("/api/runner/stages/request", json=INFO, headers=RUNNER)
    assert empty.status_code == 204


async def test_a_runner_that_stops_renewing_loses_its_stage_with_a_reason(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    hangar.settings.lease_seconds = 0.5
    assignment = await pushed_and_taken(client, hangar, redis_url, pushed, "lost")
    renewed = await client.post(f"/api/runner/stages/{assignment['stage_id']}/lease", headers=RUNNER)
    assert renewed.json()["cancel"] is False
    await asyncio.sleep(0.7)
    assert await reap_leases({"hangar": hangar}) == 0, "no API server is up: runners could not have renewed"
    await hangar.redis.set(HEARTBEAT_KEY, "1", ex=10)
    assert await reap_leases({"hangar": hangar}) == 1
    build = await build_of(hangar, 1)
    assert build.status == "error"
    async with hangar.reading() as session:
        stage = (await list_stages(session, build.id or 0))[0]
    assert stage.status == "error" and "runner 'scripted' lost" in stage.error
    lost = await client.post(f"/api/runner/stages/{assignment['stage_id']}/lease", headers=RUNNER)
    assert lost.status_code == 409


async def test_cancel_reaches_the_runners_watch_at_once(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    hangar.settings.poll_seconds = 20
    assignment = await pushed_and_taken(client, hangar, redis_url, pushed, "cancel")
    watch = asyncio.create_task(
        client.get(f"/api/runner/stages/{assignment['stage_id']}/watch", headers=RUNNER)
    )
    await asyncio.sleep(0.3)
    assert not watch.done()
    async with hangar.transaction() as (session, changes):
        build = await session.get(Build, 1)
        assert build is not None
        await cancel_build(session, changes, build)
    answer = await asyncio.wait_for(watch, 2)
    assert answer.json()["cancel"] is True
    async with hangar.reading() as session:
        stage = (await session.exec(select(Stage))).one()
    assert stage.cancel_requested


async def test_the_runner_api_wants_a_runner_token(client: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}):
        answer = await client.post("/api/runner/stages/request", json=INFO, headers=headers)
        assert answer.status_code == 401


SECRETS = """\
kind: pipeline
name: test
steps:
  - name: use
    image: busybox
    commands: [echo $A $B]
    environment:
      A: {from_secret: deploy_key}
      B: {from_secret: public_token}
"""


async def test_pull_requests_get_only_the_secrets_that_allow_them(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    async with hangar.transaction() as (session, _changes):
        for name, allowed in (("deploy_key", False), ("public_token", True)):
            value = hangar.cipher.encrypt(f"value-of-{name}")
            session.add(Secret(repo_id=1, name=name, value=value, pull_request=allowed))
    assert "value-of" not in str(await hangar.redis.keys("*"))
    base_before, base = pushed.push({".ci.yml": SECRETS}, "base")
    await send_push(client, "octo", "app", base_before, base, "base")
    git(pushed.work, "checkout", "--quiet", "-b", "feature")
    (pushed.work / "f.txt").write_text("f")
    git(pushed.work, "add", "-A")
    git(pushed.work, "commit", "--quiet", "-m", "feature")
    head = git(pushed.work, "rev-parse", "HEAD").strip()
    git(pushed.work, "push", "--quiet", "origin", "HEAD:refs/pull/7/head")
    body = github_pull_request("octo", "app", 7, head, base, "feature")
    assert (
        await client.post("/hook", content=body, headers=github_headers(body, event="pull_request"))
    ).status_code == 202
    await run_jobs(hangar, redis_url)
    push_build, pr_build = await take_stage(client), await take_stage(client)
    by_event = {a["plan"]["steps"][1]["environment"]["DRONE_BUILD_EVENT"]: a for a in (push_build, pr_build)}
    assert by_event["push"]["secrets"] == {
        "deploy_key": "value-of-deploy_key",
        "public_token": "value-of-public_token",
    }
    assert by_event["pull_request"]["secrets"] == {"public_token": "value-of-public_token"}
    assert by_event["pull_request"]["plan"]["clone"]["ref"] == "refs/pull/7/head"
    async with hangar.reading() as session:
        stored = (await session.exec(select(Secret.value))).all()
    assert stored and not any("value-of" in value for value in stored), "encrypted at rest"


async def test_several_reports_in_one_request_apply_in_order(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    stage_id = (await pushed_and_taken(client, hangar, redis_url, pushed, "batch"))["stage_id"]
    hello = StepReport(number=2, name="hello", status=Status.RUNNING, started=1.0)
    items = [
        {
            "stage": StageReport(number=1, name="test", status=Status.RUNNING, started=1.0).model_dump(
                mode="json"
            )
        },
        {"step": hello.model_dump(mode="json")},
        {"logs": {"step": 2, "first": 0, "lines": [[0.1, "a"], [0.2, "b"]]}},
        {"logs": {"step": 2, "first": 1, "lines": [[0.2, "b"], [0.3, "c"]]}},
        {"step": hello.model_copy(update={"status": Status.SUCCESS, "exit_code": 0}).model_dump(mode="json")},
        {
            "stage": StageReport(number=1, name="test", status=Status.SUCCESS, finished=2.0).model_dump(
                mode="json"
            )
        },
    ]
    url = f"/api/runner/stages/{stage_id}/reports"
    answer = await client.post(url, json={"items": items}, headers=RUNNER)
    assert answer.json() == {"acks": [None, None, {"next": 2}, {"next": 3}, None, None]}
    again = await client.post(url, json={"items": items[2:]}, headers=RUNNER)
    assert again.status_code == 200, "a retry whose answer was lost"
    assert again.json() == {"acks": [{"next": 3}, {"next": 3}, None, None]}, "where each log stands"
    assert (await build_of(hangar, 1)).status == "success"
    async with hangar.reading() as session:
        steps = await list_steps(session, [stage_id])
        lines = await read_lines(session, steps[1].id or 0)
    assert [text for _, _, text in lines] == ["a", "b", "c"]
    assert steps[1].status == "success" and steps[1].exit_code == 0


async def test_a_runners_log_lines_are_stored_as_the_json_text_it_sent(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    stage_id = (await pushed_and_taken(client, hangar, redis_url, pushed, "as sent"))["stage_id"]
    sent = [(0.5, 'a "lines":[ ]},"stage": ]]} text'), (0.75, "é ☃ \u0000 \u001b[31m"), (1.0, "c")]
    first = LogBatch(step=2, first=0, lines=sent[:2])
    overlapping = LogBatch(step=2, first=1, lines=sent[1:])  # a retry that brings one new line
    body = ReportBatch(items=[ReportItem(logs=first)]).model_dump_json()
    url = f"/api/runner/stages/{stage_id}"
    answer = await client.post(url + "/reports", content=body, headers=RUNNER)
    assert answer.json() == {"acks": [{"next": 2}]}
    answer = await client.post(url + "/logs", content=overlapping.model_dump_json(), headers=RUNNER)
    assert answer.json() == {"next": 3}
    async with hangar.reading() as session:
        step = (await list_steps(session, [stage_id]))[1]
        chunks = await read_chunk_texts(session, step.id or 0, 0, 3)
        lines = await read_lines(session, step.id or 0)
    assert [text for _, text in chunks] == [lines_json(sent[:2]), lines_json(sent[2:])]
    assert lines_json(sent[:2]) in body, "the text as it came"
    assert [(seconds, text) for _, seconds, text in lines] == sent
