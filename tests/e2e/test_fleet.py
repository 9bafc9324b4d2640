"""Several servers at once (issue 21), all real processes: two `hangar server` replicas behind a proxy, two
`hangar worker`s, three `hangar runner`s, PostgreSQL and Redis (tests/e2e/fleet.py). Webhooks spread over
both replicas build every commit once; a cron fires once per due time; a log followed on one replica while
the runner reports to the other arrives whole; a replica killed mid-burst loses nothing.

`HANGAR_FLEET_HOOKS` sets the size of the burst (CI: 30; `scripts/reliability` runs it with 100)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.conftest import fresh_postgres
from tests.e2e.fleet import REPLICAS, RUNNERS, Fleet, running_fleet
from tests.e2e.processes import ADMIN_TOKEN
from tests.peers import RecordingForge
from tests.server.support import PushedRepo, github_headers, github_push

HOOKS = int(os.environ.get("HANGAR_FLEET_HOOKS", "30"))
KILL_HOOKS = 16
KILL_AFTER = 3
"""Replica A is killed once it has answered this many webhooks of the second burst."""
LIVE_LINES = 1000
QUICK = """\
kind: pipeline
name: quick
clone:
  disable: true
steps:
  - {name: quick, image: busybox, commands: ["true"]}
"""

MARK = ['echo "$DRONE_REPO_NAME $DRONE_BUILD_NUMBER $DRONE_COMMIT_SHA" >> /marks/ran']
"""Each stage that runs writes one line: its build's number and commit."""
LIVE = [
    "while [ ! -f /marks/go ]; do sleep 0.1; done",
    'for i in $(seq 1 20); do for j in $(seq 1 50); do echo "line $i.$j"; done; sleep 0.05; done',
]


def pipeline(commands: list[str], marks: Path) -> str:
    """A one-step pipeline (no clone) running `commands` with the host's `marks` folder at /marks."""
    return (
        "kind: pipeline\nname: fleet\nclone: {disable: true}\nsteps:\n"
        f"  - {{name: run, image: busybox, commands: {json.dumps(commands)},\n"
        "     volumes: [{name: marks, path: /marks}]}\n"
        f"volumes: [{{name: marks, host: {{path: {json.dumps(str(marks))}}}}}]\n"
    )


@pytest.fixture(scope="module")
def fleet(
    tmp_path_factory: pytest.TempPathFactory, services: dict[str, str], docker_host: str
) -> Iterator[Fleet]:
    redis_url = services["HANGAR_TEST_REDIS_URL"]
    with redis.Redis.from_url(redis_url) as client:
        client.flushdb()  # no job or lease left in this database by an earlier session
    with (
        fresh_postgres(services["HANGAR_TEST_POSTGRES_URL"]) as database,
        running_fleet(tmp_path_factory.mktemp("fleet"), database, redis_url) as running,
    ):
        yield running


@pytest.fixture
def marks(tmp_path: Path) -> Path:
    """A folder the steps write into (a host volume: the repositories are trusted)."""
    folder = tmp_path / "marks"
    folder.mkdir()
    folder.chmod(0o777)
    return folder


async def test_webhooks_spread_over_both_replicas_build_each_commit_once(
    fleet: Fleet, tmp_path: Path, marks: Path, forge: RecordingForge
) -> None:
    shas, hooks = _pushes(fleet, tmp_path, "burst", HOOKS, marks, forge)
    async with httpx.AsyncClient(trust_env=False, timeout=60) as client:
        answers = await asyncio.gather(
            *(_post(client, fleet.servers[REPLICAS[n % 2]].url, hook) for n, hook in enumerate(hooks))
        )
    assert [answer.status_code for answer in answers] == [202] * HOOKS, [a.text for a in answers]

    builds = await fleet.finished_builds("octo/burst", HOOKS)
    runners = await _assert_each_commit_built_once(fleet, forge, "burst", shas, builds, marks)
    assert set(runners) == set(RUNNERS), f"every runner took some: {runners}"


async def test_a_cron_fires_once_per_due_time_with_two_workers(fleet: Fleet, tmp_path: Path) -> None:
    repo = PushedRepo(tmp_path / "git")
    fleet.register("cron", repo)
    repo.push({".ci.yml": QUICK})
    async with fleet.api() as api:
        expr, due = _due_soon()
        answer = await api.post("/api/repos/octo/cron/cron", json={"name": "nightly", "expr": expr})
        assert answer.status_code == 201 and answer.json()["next"] == due, answer.text
        await _cron_builds(fleet, 1)
        expr, due = _due_soon()
        answer = await api.patch("/api/repos/octo/cron/cron/nightly", json={"expr": expr})
        assert answer.status_code == 200 and answer.json()["next"] == due, answer.text
        await _cron_builds(fleet, 2)
    builds = await fleet.finished_builds("octo/cron", 2)
    assert [(b["number"], b["event"], b["cron"], b["status"]) for b in builds] == [
        (1, "cron", "nightly", "success"),
        (2, "cron", "nightly", "success"),
    ]


async def test_a_log_followed_on_one_replica_while_the_runner_reports_to_the_other_arrives_whole(
    fleet: Fleet, tmp_path: Path, marks: Path
) -> None:
    repo = PushedRepo(tmp_path / "git")
    fleet.register("live", repo)
    fleet.proxy.route(fleet.port("b"))  # runners reach replica B only; the viewer asks replica A
    try:
        before, sha = repo.push({".ci.yml": pipeline(LIVE, marks)})
        async with httpx.AsyncClient(base_url=fleet.servers["a"].url, trust_env=False, timeout=60) as a:
            answer = await _post(a, "", _signed(github_push("octo", "live", before, sha, "live")))
            assert answer.status_code == 202, answer.text
            await _until_step_runs(fleet, "octo/live")
            lines, done = await _follow(a, "/api/repos/octo/live/builds/1/logs/1/1/stream", marks / "go")
            stored = (await a.get("/api/repos/octo/live/builds/1/logs/1/1?limit=5000")).json()
    finally:
        fleet.proxy.route(*(fleet.port(replica) for replica in REPLICAS))
    build = await fleet.build("octo/live", 1)
    assert build["stages"][0]["runner"] in RUNNERS
    assert done == {"status": "success", "exit_code": 0}
    assert [line["pos"] for line in lines] == list(range(len(lines))), "every line once, in order"
    assert lines == stored
    printed = [line["out"] for line in lines if line["out"].startswith("line ")]
    assert printed == [f"line {i}.{j}" for i in range(1, 21) for j in range(1, 51)]
    assert len(printed) == LIVE_LINES


async def test_a_replica_killed_mid_burst_loses_no_webhook_and_no_build(
    fleet: Fleet, tmp_path: Path, marks: Path, forge: RecordingForge
) -> None:
    shas, hooks = _pushes(fleet, tmp_path, "kill", KILL_HOOKS, marks, forge)
    answered_by_a: list[int] = []
    moved: list[int] = []
    gate = asyncio.Semaphore(4)  # a forge sends a few at a time

    async def deliver(client: httpx.AsyncClient, number: int, hook: tuple[bytes, dict[str, str]]) -> int:
        async with gate:
            if number % 2 == 0:  # replica A's turn
                try:
                    answer = await _post(client, fleet.servers["a"].url, hook)
                except httpx.TransportError:  # no answer: the proxy sends it to the other replica
                    moved.append(number)
                else:
                    answered_by_a.append(number)
                    if len(answered_by_a) == KILL_AFTER:
                        await asyncio.to_thread(fleet.kill, "a")
                    return answer.status_code
            return (await _post(client, fleet.servers["b"].url, hook)).status_code

    try:
        async with httpx.AsyncClient(trust_env=False, timeout=60) as client:
            codes = await asyncio.gather(*(deliver(client, n, hook) for n, hook in enumerate(hooks)))
        builds = await fleet.finished_builds("octo/kill", KILL_HOOKS)
    finally:
        if fleet.servers["a"].process.poll() is not None:
            fleet.restart("a")
    assert len(answered_by_a) >= KILL_AFTER and moved, (answered_by_a, moved)
    assert set(codes) <= {200, 202} and codes.count(202) >= KILL_HOOKS - len(moved), codes
    await _assert_each_commit_built_once(fleet, forge, "kill", shas, builds, marks)


def _signed(body: bytes) -> tuple[bytes, dict[str, str]]:
    """A webhook and its headers (the delivery id stays the same when it is sent again)."""
    return body, github_headers(body)


async def _post(client: httpx.AsyncClient, url: str, hook: tuple[bytes, dict[str, str]]) -> httpx.Response:
    body, headers = hook
    return await client.post(f"{url}/hook", content=body, headers=headers)


def _pushes(
    fleet: Fleet, tmp_path: Path, name: str, count: int, marks: Path, forge: RecordingForge
) -> tuple[list[str], list[tuple[bytes, dict[str, str]]]]:
    """Register `octo/NAME`, push `count` commits of the MARK pipeline: their shas and signed webhooks."""
    repo = PushedRepo(tmp_path / "git")
    fleet.register(name, repo, forge.url)
    commits = repo.push_each([f"{name} {n}" for n in range(count)], {".ci.yml": pipeline(MARK, marks)})
    hooks = [_signed(github_push("octo", name, before, sha, name)) for before, sha in commits]
    return [sha for _before, sha in commits], hooks


async def _assert_each_commit_built_once(
    fleet: Fleet, forge: RecordingForge, name: str, shas: list[str], builds: list[dict[str, Any]], marks: Path
) -> Counter[str]:
    """One successful build per commit, its stage run once by one of the runners, and finished once (one
    final commit status); how many stages each runner ran."""
    assert [build["number"] for build in builds] == list(range(1, len(shas) + 1))
    assert sorted(build["sha"] for build in builds) == sorted(shas), "one build per commit"
    failed = [(b["number"], b["status"], b["error"]) for b in builds if b["status"] != "success"]
    assert not failed
    ran = Counter(tuple(line.split()[1:]) for line in (marks / "ran").read_text().splitlines())
    assert ran == Counter((str(b["number"]), b["sha"]) for b in builds), "each stage ran exactly once"
    details = await asyncio.gather(*(fleet.build(f"octo/{name}", build["number"]) for build in builds))
    runners = Counter(stage["runner"] for build in details for stage in build["stages"])
    assert set(runners) <= set(RUNNERS) and runners.total() == len(shas), runners
    await _assert_one_final_status_each(forge, name, shas)
    return runners


async def _assert_one_final_status_each(forge: RecordingForge, name: str, shas: list[str]) -> None:
    """Each commit's build finished once, as its commit statuses tell the forge."""

    def finals() -> dict[str, list[str]]:
        states: dict[str, list[str]] = {sha: [] for sha in shas}
        for request in forge.requests:
            folder, _, sha = request.path.rpartition("/")
            if folder == f"/repos/octo/{name}/statuses" and request.body["state"] != "pending":
                states.setdefault(sha, []).append(request.body["state"])
        return states

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(finals().values()):
        await asyncio.sleep(0.2)
    assert finals() == {sha: ["success"] for sha in shas}


def _due_soon() -> tuple[str, float]:
    """A cron expression (seconds first) due once, a few seconds from now (UTC), and that time."""
    at = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(seconds=3)
    return f"{at.second} {at.minute} {at.hour} {at.day} {at.month} *", at.timestamp()


async def _cron_builds(fleet: Fleet, count: int) -> None:
    """Wait for the cron's `count`th build, give both workers more ticks, then check there is no other."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(await fleet.builds("octo/cron")) < count:
        await asyncio.sleep(0.2)
    await asyncio.sleep(2)  # two more ticks of each worker: time for a duplicate to appear
    assert len(await fleet.builds("octo/cron")) == count, fleet.output()


async def _until_step_runs(fleet: Fleet, slug: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        build = await fleet.build(slug, 1) if await fleet.builds(slug) else {"stages": []}
        if build["stages"] and build["stages"][0]["steps"][-1]["status"] == "running":
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{slug}#1's step never ran\n{fleet.output()}")


async def _follow(
    client: httpx.AsyncClient, path: str, go: Path
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The `line` events of a log stream and its `done`; the step is let go (`go` made) once it is open."""
    lines: list[dict[str, Any]] = []
    async with client.stream("GET", path, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as stream:
        assert stream.status_code == 200
        go.touch()
        async for event, data in _events(stream.aiter_lines()):
            if event == "line":
                lines.append(json.loads(data))
            elif event == "done":
                return lines, json.loads(data)
    raise AssertionError(f"the stream ended without `done` after {len(lines)} lines")


async def _events(source: AsyncIterator[str]) -> AsyncIterator[tuple[str, str]]:
    """(event, data) of each server-sent event."""
    event, data = "message", []
    async for line in source:
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            data.append(line.removeprefix("data: "))
        elif not line and data:
            yield event, "\n".join(data)
            event, data = "message", []
