"""Builds that are not pushes, through the real app and worker on SQLite and Redis (the runner scripted over
HTTP): custom builds with parameters, promotions and rollbacks to a target, approval gates, protected mode,
and concurrency limits across builds. Crons: tests/server/actions/test_crons.py; with real containers:
tests/e2e/test_lifecycle.py."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from pipelines import cause_of
from pipelines.status import Status
from server.concurrency import waiting_reason
from server.db.models import Stage
from server.services import Services
from server.store.builds import list_stages
from server.store.repos import find_repo, update_repo
from server.trigger import compile_build, new_build
from tests.server.conftest import admin_headers
from tests.server.support import PushedRepo, git, github_headers, github_pull_request, send_push
from tests.server.test_flow import INFO, RUNNER, build_of, run_jobs, take_stage

PIPELINES = """\
kind: pipeline
name: test
trigger: {event: [push, pull_request, custom]}
steps:
  - name: test
    image: busybox
    commands: [echo test]
---
kind: pipeline
name: deploy
trigger: {event: [promote, rollback], target: [production]}
concurrency: {limit: 1}
steps:
  - name: deploy
    image: busybox
    commands: [echo deploy]
"""
BUILDS = "/api/repos/octo/app/builds"
ADMIN = admin_headers()


@pytest.fixture
async def first(client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo) -> str:
    """The pipelines pushed and built as build 1 (its stage taken and finished); the commit."""
    before, sha = pushed.push({".ci.yml": PIPELINES}, "pipelines")
    assert (await send_push(client, "octo", "app", before, sha, "pipelines")).status_code == 202
    await run_jobs(hangar, redis_url)
    await finish(client, await take_stage(client))
    return sha


async def finish(client: httpx.AsyncClient, assignment: dict[str, Any], status: str = "success") -> None:
    """Report the taken stage finished."""
    report = {"number": 1, "name": "x", "status": status, "started": 1.0, "finished": 2.0, "steps": []}
    url = f"/api/runner/stages/{assignment['stage_id']}"
    answer = await client.post(url, content=json.dumps(report), headers=RUNNER)
    assert answer.status_code == 204, answer.text


def environment(assignment: dict[str, Any]) -> dict[str, str]:
    """The environment of the stage's last step."""
    env: dict[str, str] = assignment["plan"]["steps"][-1]["environment"]
    return env


async def nothing_offered(client: httpx.AsyncClient) -> bool:
    """No stage is offered to a runner, nor taken by one asking to take it (the long-polls time out)."""
    offer = await client.post("/api/runner/stages/request", json=INFO, headers=RUNNER)
    taken = await client.post("/api/runner/stages/request", json={**INFO, "take_lease": "x"}, headers=RUNNER)
    return offer.status_code == taken.status_code == 204


async def test_a_custom_build_of_a_branch_gets_its_parameters(client: httpx.AsyncClient, first: str) -> None:
    answer = await client.post(f"{BUILDS}?branch=main&VERSION=1.2&note=hi%20there", headers=ADMIN)
    assert answer.status_code == 201, answer.text
    build = answer.json()
    assert (build["event"], build["sha"], build["branch"], build["sender"]) == (
        "custom",
        first,
        "main",
        "admin",
    )
    assert build["parameters"] == {"VERSION": "1.2", "note": "hi there"}
    assert [stage["name"] for stage in build["stages"]] == ["test"]
    env = environment(await take_stage(client))
    assert (env["VERSION"], env["note"], env["DRONE_BUILD_EVENT"]) == ("1.2", "hi there", "custom")


@pytest.mark.parametrize(
    ("query", "status", "says"),
    [
        ("branch=main&DRONE_BRANCH=x", 400, "would hide one of Hangar's own variables"),
        ("branch=main&bad-name=1", 400, "is not a variable name"),
        ("branch=nowhere", 404, "nowhere"),
    ],
)
async def test_a_custom_build_refuses_what_it_cannot_build(
    client: httpx.AsyncClient, first: str, query: str, status: int, says: str
) -> None:
    answer = await client.post(f"{BUILDS}?{query}", headers=ADMIN)
    assert (answer.status_code, says in answer.json()["error"]) == (status, True), answer.text
    assert answer.status_code != 401 and (await client.post(f"{BUILDS}?branch=main")).status_code == 401


async def test_a_promotion_runs_the_pipelines_of_its_target_only(
    client: httpx.AsyncClient, hangar: Services, first: str
) -> None:
    promoted = await client.post(f"{BUILDS}/1/promote?target=production&VERSION=1.2", headers=ADMIN)
    assert promoted.status_code == 201, promoted.text
    build = promoted.json()
    assert (build["event"], build["deploy_to"], build["parent"], build["sha"]) == (
        "promote", "production", 1, first,
    )  # fmt: skip
    assert [stage["name"] for stage in build["stages"]] == ["deploy"]
    env = environment(await take_stage(client))
    assert (env["DRONE_DEPLOY_TO"], env["CI_PIPELINE_DEPLOY_TARGET"], env["VERSION"]) == (
        "production", "production", "1.2",
    )  # fmt: skip
    assert env["DRONE_BUILD_PARENT"] == "1" and env["DRONE_BUILD_EVENT"] == "promote"

    staging = (await client.post(f"{BUILDS}/1/promote?target=staging", headers=ADMIN)).json()
    assert staging["status"] == "skipped" and staging["stages"] == []
    assert "deploy" in staging["error"] and "target" in staging["error"], staging["error"]
    rollback = (await client.post(f"{BUILDS}/1/rollback?target=production", headers=ADMIN)).json()
    assert (rollback["event"], [s["name"] for s in rollback["stages"]]) == ("rollback", ["deploy"])
    missing = await client.post(f"{BUILDS}/1/promote", headers=ADMIN)
    assert missing.status_code == 400 and "needs a target" in missing.json()["error"]


async def test_a_concurrency_limit_holds_across_builds_in_build_order(
    client: httpx.AsyncClient, hangar: Services, first: str
) -> None:
    for _ in range(3):
        answer = await client.post(f"{BUILDS}/1/promote?target=production", headers=ADMIN)
        assert answer.status_code == 201, answer.text
    running = await take_stage(client)
    assert environment(running)["DRONE_BUILD_NUMBER"] == "2"
    assert await nothing_offered(client), "the limit is 1: builds 3 and 4 wait"
    async with hangar.reading() as session:
        waiting = list(await list_stages(session, (await build_of(hangar, 3)).id or 0))
        reason = await waiting_reason(session, waiting[0])
    assert reason == "waiting: 1 of 1 'deploy' already running in #2"
    await finish(client, running)
    following = await take_stage(client)
    assert environment(following)["DRONE_BUILD_NUMBER"] == "3", "the next in build order, not the newest"
    assert await nothing_offered(client)
    await finish(client, following, "failure")
    assert environment(await take_stage(client))["DRONE_BUILD_NUMBER"] == "4"


async def test_builds_compiled_out_of_order_still_take_a_limited_pipeline_in_build_order(
    client: httpx.AsyncClient, hangar: Services, first: str
) -> None:
    """Two promotions at once are compiled side by side: the later build's stages may be stored first."""
    async with hangar.transaction() as (session, changes):
        repo = await find_repo(session, "octo", "app")
        assert repo is not None
        parent = await build_of(hangar, 1)
        cause = cause_of(parent).model_copy(update={"event": "promote", "deploy_to": "production"})
        earlier = await new_build(session, changes, repo, cause, parent=1)
        later = await new_build(session, changes, repo, cause, parent=1)
    await compile_build(hangar, later.id or 0)
    await compile_build(hangar, earlier.id or 0)
    taken = await take_stage(client)
    assert environment(taken)["DRONE_BUILD_NUMBER"] == "2", "the earlier build first, though compiled last"
    assert await nothing_offered(client), "the limit is 1: build 3 waits"
    await finish(client, taken)
    assert environment(await take_stage(client))["DRONE_BUILD_NUMBER"] == "3"


async def test_a_runner_that_accepts_beyond_the_limit_is_refused(
    client: httpx.AsyncClient, hangar: Services, first: str
) -> None:
    for _ in range(2):
        await client.post(f"{BUILDS}/1/promote?target=production", headers=ADMIN)
    async with hangar.reading() as session:
        stages: list[Stage] = [
            stage
            for number in (2, 3)
            for stage in await list_stages(session, (await build_of(hangar, number)).id or 0)
        ]
    await take_stage(client)  # build 2's deploy
    accept = await client.post(
        f"/api/runner/stages/{stages[1].id}/accept", json={"version": stages[1].version}, headers=RUNNER
    )
    assert accept.status_code == 409, "build 3's deploy must wait for build 2's"


async def test_a_build_that_needs_approval_waits_blocked_until_approved_or_declined(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo, first: str
) -> None:
    await set_repo(hangar, approval="all")
    for message in ("second", "third"):
        before, sha = pushed.push({f"{message}.txt": message}, message)
        await send_push(client, "octo", "app", before, sha, message)
    await run_jobs(hangar, redis_url)
    for number in (2, 3):
        blocked = await build_of(hangar, number)
        assert (blocked.status, blocked.error) == (
            Status.BLOCKED,
            "waiting for approval: every build of this repository is approved first",
        )
    assert await nothing_offered(client), "a blocked build is offered to no runner (no secret leaves)"
    anonymous = await client.post(f"{BUILDS}/2/approve")
    assert anonymous.status_code == 401
    approved = await client.post(f"{BUILDS}/2/approve", headers=ADMIN)
    assert approved.status_code == 200, approved.text
    assert [s["status"] for s in approved.json()["stages"]] == ["pending"]
    assert environment(await take_stage(client))["DRONE_BUILD_NUMBER"] == "2"
    declined = (await client.post(f"{BUILDS}/3/decline", headers=ADMIN)).json()
    assert (declined["status"], declined["error"], declined["finished"] is not None) == (
        "declined", "declined by admin", True,
    )  # fmt: skip
    assert [s["status"] for s in declined["stages"]] == ["skipped"]
    again = await client.post(f"{BUILDS}/3/approve", headers=ADMIN)
    assert again.status_code == 409 and "only a blocked build" in again.json()["error"]


async def test_a_pull_request_from_a_fork_waits_by_default_and_one_from_the_repository_does_not(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo, first: str
) -> None:
    git(pushed.work, "checkout", "--quiet", "-b", "feature")
    head = pushed.push({"f.txt": "f"}, "feature")[1]
    for number in (7, 8):
        git(pushed.work, "push", "--quiet", "origin", f"HEAD:refs/pull/{number}/head")
    ours = github_pull_request("octo", "app", 7, head, first, "feature")
    payload = json.loads(ours)
    payload["number"] = payload["pull_request"]["number"] = 8
    payload["pull_request"]["head"]["repo"] = payload["repository"] | {"full_name": "stranger/app"}
    theirs = json.dumps(payload).encode()
    for body in (ours, theirs):
        answer = await client.post("/hook", content=body, headers=github_headers(body, event="pull_request"))
        assert answer.status_code == 202, answer.text
    await run_jobs(hangar, redis_url)
    own, fork = await build_of(hangar, 2), await build_of(hangar, 3)
    assert (own.fork, own.status) == (False, Status.PENDING)
    assert (fork.fork, fork.status) == (True, Status.BLOCKED), fork.error
    assert fork.error == "waiting for approval: the pull request comes from a fork"


async def test_a_protected_repository_runs_only_files_signed_with_its_key(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo, first: str
) -> None:
    await set_repo(hangar, protected=True, approval="none")
    before, sha = pushed.push({".ci.yml": PIPELINES.replace("echo test", "echo edited")}, "unsigned")
    await send_push(client, "octo", "app", before, sha, "unsigned")
    await run_jobs(hangar, redis_url)
    assert (await build_of(hangar, 2)).status == Status.BLOCKED
    answer = await client.post(
        "/api/repos/octo/app/sign", json={"data": (pushed.work / ".ci.yml").read_text()}, headers=ADMIN
    )
    assert answer.status_code == 200, answer.text
    signed = answer.json()["data"]
    assert "kind: signature" in signed and "hmac: " in signed
    before, sha = pushed.push({".ci.yml": signed}, "signed")
    await send_push(client, "octo", "app", before, sha, "signed")
    await run_jobs(hangar, redis_url)
    assert (await build_of(hangar, 3)).status == Status.PENDING
    tampered = signed.replace("echo edited", "echo tampered")
    before, sha = pushed.push({".ci.yml": tampered}, "tampered")
    await send_push(client, "octo", "app", before, sha, "tampered")
    await run_jobs(hangar, redis_url)
    assert (await build_of(hangar, 4)).status == Status.BLOCKED


async def set_repo(hangar: Services, **settings: object) -> None:
    """Change octo/app's settings in the store."""
    async with hangar.transaction() as (session, _changes):
        repo = await find_repo(session, "octo", "app")
        assert repo is not None
        for key, value in settings.items():
            setattr(repo, key, value)
        await update_repo(session, repo)
