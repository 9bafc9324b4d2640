"""Builds that are not pushes, all real (`hangar up`, Docker, git, the recording forge): promotions to a
target with parameters, a cron run now and a minutely cron across a restart, a deploy pipeline limited to
one at a time, approval of a fork's pull request, and a protected repository's signed file (issue 15)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.processes import Hangar, free_port, hangar_up, wait_until
from tests.e2e.test_push_to_build import push_and_hook, register, statuses_for
from tests.peers import RecordingForge, SmtpServer
from tests.server.support import PushedRepo, git, github_headers, github_pull_request

PIPELINES = """\
kind: pipeline
name: test
trigger: {event: [push, pull_request]}
steps:
  - name: test
    image: busybox
    commands: ["echo testing $DRONE_COMMIT_SHA"]
---
kind: pipeline
name: deploy
trigger: {event: [promote], target: [production]}
concurrency: {limit: 1}
steps:
  - name: deploy
    image: busybox
    commands:
      - echo "DRONE_DEPLOY_TO=$DRONE_DEPLOY_TO VERSION=$VERSION PARENT=$DRONE_BUILD_PARENT"
      - sleep 3
---
kind: pipeline
name: nightly
trigger: {event: [cron], cron: [nightly]}
steps:
  - name: report
    image: busybox
    commands: ["echo DRONE_CRON=$DRONE_CRON"]
"""
MINUTELY = """\
kind: pipeline
name: tick
trigger: {event: [cron], cron: [tick]}
steps:
  - name: tick
    image: busybox
    commands: ["echo tick"]
"""
BUILDS = "/api/repos/octo/app/builds"


def step_log(hangar: Hangar, number: int, stage: int = 1, step: int = 2) -> list[str]:
    """A finished build's step output, line by line."""
    with hangar.api() as api:
        return [line["out"] for line in api.get(f"{BUILDS}/{number}/logs/{stage}/{step}").json()]


def post(hangar: Hangar, path: str, **options: Any) -> dict[str, Any]:
    """POST as the admin; the answer's JSON (fails with its text unless 200 or 201)."""
    with hangar.api() as api:
        answer = api.post(path, **options)
    assert answer.status_code in (200, 201), answer.text
    body: dict[str, Any] = answer.json()
    return body


async def finished(hangar: Hangar, number: int) -> dict[str, Any]:
    return await asyncio.to_thread(hangar.wait_for_build, "octo/app", number)


async def test_promotions_crons_and_a_deploy_limited_to_one_at_a_time(
    tmp_path: Path, docker_host: str, forge: RecordingForge, smtp_server: SmtpServer
) -> None:
    repo = PushedRepo(tmp_path / "git")
    with hangar_up(tmp_path / "data") as hangar:
        await asyncio.to_thread(register, hangar, repo, forge)
        await asyncio.to_thread(push_and_hook, hangar, repo, {".ci.yml": PIPELINES}, "pipelines")
        pushed = await finished(hangar, 1)
        assert [stage["name"] for stage in pushed["stages"]] == ["test"], "a push runs the test pipeline only"

        promoted = post(hangar, f"{BUILDS}/1/promote", params={"target": "production", "VERSION": "1.2"})
        deployed = await finished(hangar, promoted["number"])
        assert deployed["status"] == "success" and [s["name"] for s in deployed["stages"]] == ["deploy"]
        assert "DRONE_DEPLOY_TO=production VERSION=1.2 PARENT=1" in step_log(hangar, deployed["number"])

        staging = post(hangar, f"{BUILDS}/1/promote", params={"target": "staging"})
        assert staging["status"] == "skipped" and "target" in staging["error"], staging

        with hangar.api() as api:
            added = api.post("/api/repos/octo/app/cron", json={"name": "nightly", "expr": "0 2 * * *"})
            assert added.status_code == 201, added.text
        nightly = await finished(hangar, post(hangar, "/api/repos/octo/app/cron/nightly")["number"])
        assert (nightly["event"], [s["name"] for s in nightly["stages"]]) == ("cron", ["nightly"])
        assert "DRONE_CRON=nightly" in step_log(hangar, nightly["number"])

        first, second = await asyncio.gather(
            *(
                asyncio.to_thread(post, hangar, f"{BUILDS}/1/promote", params={"target": "production"})
                for _ in range(2)
            )
        )
        both = [await finished(hangar, first["number"]), await finished(hangar, second["number"])]
    assert [build["status"] for build in both] == ["success", "success"]
    both.sort(key=lambda build: build["stages"][0]["steps"][-1]["started"])  # sent at once: either goes first
    earlier, later = (build["stages"][0]["steps"][-1] for build in both)
    print(f"deploys: #{both[0]['number']} {earlier['started']:.1f}-{earlier['finished']:.1f}, "
          f"#{both[1]['number']} {later['started']:.1f}-{later['finished']:.1f}")  # fmt: skip
    assert earlier["finished"] <= later["started"], "the two deploys overlapped despite limit 1"


PERIOD = 20
"""The cron below fires every 20 seconds (Drone's six fields, seconds first): the test waits periods, not
minutes."""


async def test_a_frequent_cron_builds_each_due_time_once_across_a_restart(
    tmp_path: Path, docker_host: str
) -> None:
    repo = PushedRepo(tmp_path / "git")
    repo.push({".ci.yml": MINUTELY}, "tick")
    port = free_port()
    body = {"owner": "octo", "name": "app", "clone_url": str(repo.bare), "webhook_secret": "s"}
    every = {"name": "tick", "expr": f"*/{PERIOD} * * * * *"}
    with hangar_up(tmp_path / "data", port=port) as hangar:
        with hangar.api() as api:
            assert api.post("/api/repos", json=body).status_code == 201
            cron = api.post("/api/repos/octo/app/cron", json=every).json()
        first_due = cron["next"]
        await asyncio.to_thread(wait_until, lambda: cron_builds(hangar) >= 1, "the first tick", 3 * PERIOD)
    with hangar_up(tmp_path / "data", port=port) as hangar:  # restarted, same data
        await asyncio.to_thread(wait_until, lambda: cron_builds(hangar) >= 2, "the second tick", 3 * PERIOD)
        end = time.time() + PERIOD - 5  # most of a further period
        await asyncio.sleep(max(0.0, end - time.time()))
        with hangar.api() as api:
            builds = api.get(BUILDS).json()
    due_times = int((end - first_due) // PERIOD) + 1
    assert 2 <= len(builds) <= due_times, f"{len(builds)} builds for {due_times} due times: {builds}"
    periods = sorted(int((build["created"] - first_due) // PERIOD) for build in builds)
    assert len(periods) == len(set(periods)), f"a due time built twice: {builds}"
    assert periods[0] == 0, "the first build came at the first due time"
    assert all(build["event"] == "cron" and build["cron"] == "tick" for build in builds)


def cron_builds(hangar: Hangar) -> int:
    with hangar.api() as api:
        return len(api.get(BUILDS).json())


async def test_a_forks_pull_request_waits_for_approval_and_a_protected_file_for_its_signature(
    tmp_path: Path, docker_host: str, forge: RecordingForge, smtp_server: SmtpServer
) -> None:
    repo = PushedRepo(tmp_path / "git")
    with hangar_up(tmp_path / "data") as hangar:
        await asyncio.to_thread(register, hangar, repo, forge)
        base = await asyncio.to_thread(push_and_hook, hangar, repo, {".ci.yml": PIPELINES}, "pipelines")
        await finished(hangar, 1)
        shas = [await asyncio.to_thread(fork_pull_request, hangar, repo, base, number) for number in (7, 8)]
        both_blocked = lambda: [build_status(hangar, n) for n in (2, 3)] == ["blocked"] * 2  # noqa: E731
        await asyncio.to_thread(wait_until, both_blocked, "builds 2 and 3 blocked")
        with hangar.api() as api:
            blocked = api.get(f"{BUILDS}/2").json()
        assert all(step["started"] is None for stage in blocked["stages"] for step in stage["steps"])
        assert "from a fork" in blocked["error"]
        await until(lambda: statuses_for(forge, shas[0])[-1:] == ["pending"], "the pending status")
        pending = [r for r in forge.requests if r.path.endswith(shas[0])][-1]
        assert "waiting for approval" in pending.body["description"]

        post(hangar, f"{BUILDS}/2/approve")
        approved = await finished(hangar, 2)
        assert approved["status"] == "success" and f"testing {shas[0]}" in step_log(hangar, 2)
        declined = post(hangar, f"{BUILDS}/3/decline")
        assert declined["status"] == "declined"
        await until(lambda: statuses_for(forge, shas[1])[-1:] == ["error"], "the declined status")

        with hangar.api() as api:
            assert api.patch("/api/repos/octo/app", json={"protected": True}).status_code == 200
        edited = PIPELINES.replace("echo testing", "echo checking")
        await asyncio.to_thread(push_and_hook, hangar, repo, {".ci.yml": edited}, "unsigned")
        await asyncio.to_thread(wait_until, lambda: build_status(hangar, 4) == "blocked", "build 4 blocked")
        signed = post(hangar, "/api/repos/octo/app/sign", json={"data": edited})["data"]
        sha = await asyncio.to_thread(push_and_hook, hangar, repo, {".ci.yml": signed}, "signed")
        assert (await finished(hangar, 5))["status"] == "success"
        assert f"checking {sha}" in step_log(hangar, 5)


def fork_pull_request(hangar: Hangar, repo: PushedRepo, base: str, number: int) -> str:
    """A pull request from someone's fork: its commit pushed under refs/pull/N/head, the hook sent."""
    git(repo.work, "checkout", "--quiet", "-B", f"fork-{number}", base)
    head = repo.push({f"fork-{number}.txt": "hello"}, f"fork change {number}")[1]
    git(repo.work, "push", "--quiet", "origin", f"HEAD:refs/pull/{number}/head")
    git(repo.work, "checkout", "--quiet", "main")
    payload = json.loads(github_pull_request("octo", "app", number, head, base, f"fork-{number}"))
    payload["pull_request"]["head"]["repo"] = payload["repository"] | {"full_name": "stranger/app"}
    body = json.dumps(payload).encode()
    answer = httpx.post(
        f"{hangar.url}/hook",
        content=body,
        headers=github_headers(body, event="pull_request"),
        trust_env=False,
    )
    assert answer.status_code == 202, answer.text
    return head


def build_status(hangar: Hangar, number: int) -> str:
    with hangar.api() as api:
        answer = api.get(f"{BUILDS}/{number}")
    return str(answer.json()["status"]) if answer.status_code == 200 else ""


async def until(condition: Any, what: str) -> None:
    await asyncio.to_thread(wait_until, condition, what, 30)
