"""Production shape: `hangar server`, `hangar worker` and `hangar runner` as separate processes, on PostgreSQL
and a real Redis; and the runner API's promises seen from outside: cancel. (A runner killed mid-step:
tests/reliability/test_lost_runner.py.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import empty_postgres
from tests.e2e.processes import Hangar, hangar_parts, hangar_runner, hangar_up
from tests.server.support import WEBHOOK_SECRET, PushedRepo, github_headers, github_push

SLOW = """\
kind: pipeline
name: slow
steps:
  - name: wait
    image: busybox
    commands:
      - echo started
      - sleep 120
"""

QUICK = """\
kind: pipeline
name: quick
steps:
  - name: hello
    image: busybox
    commands: [echo "hello from production"]
"""


def start_build(hangar: Hangar, repo: PushedRepo, pipeline: str) -> None:
    with hangar.api() as api:
        body = {"owner": "octo", "name": "app", "clone_url": str(repo.bare), "webhook_secret": WEBHOOK_SECRET}
        assert api.post("/api/repos", json=body).status_code == 201
    before, sha = repo.push({".ci.yml": pipeline})
    hook = github_push("octo", "app", before, sha, "go")
    assert (
        httpx.post(
            f"{hangar.url}/hook", content=hook, headers=github_headers(hook), trust_env=False
        ).status_code
        == 202
    )


def wait_for_step(hangar: Hangar, status: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with hangar.api() as api:
        while time.monotonic() < deadline:
            build = api.get("/api/repos/octo/app/builds/1")
            if build.status_code == 200 and build.json()["stages"]:
                steps = build.json()["stages"][0]["steps"]
                if steps[-1]["status"] == status:
                    return
            time.sleep(0.1)
    raise AssertionError(f"the step never became {status}:\n{hangar.output()[-3000:]}")


@pytest.fixture
def database(postgres_server: str) -> Iterator[str]:
    yield postgres_server
    asyncio.run(empty_postgres(postgres_server))


def test_server_worker_and_runner_as_separate_processes_on_postgresql(
    tmp_path: Path, docker_host: str, database: str, services: dict[str, str]
) -> None:
    env = {"HANGAR_DATABASE_URL": database, "HANGAR_REDIS_URL": services["HANGAR_TEST_REDIS_URL"]}
    repo = PushedRepo(tmp_path / "git")
    with (
        hangar_parts(tmp_path / "data", env) as hangar,
        hangar_runner(hangar.url, "prod-runner", tmp_path / "r.log"),
    ):
        start_build(hangar, repo, QUICK)
        build = hangar.wait_for_build("octo/app", 1)
        with hangar.api() as api:
            lines = [line["out"] for line in api.get("/api/repos/octo/app/builds/1/logs/1/2").json()]
    assert build["status"] == "success", hangar.output()[-3000:]
    assert build["stages"][0]["runner"] == "prod-runner"
    assert "hello from production" in lines


def test_cancel_stops_a_running_step_and_the_build_ends_killed(tmp_path: Path, docker_host: str) -> None:
    repo = PushedRepo(tmp_path / "git")
    with hangar_up(tmp_path / "data") as hangar:
        start_build(hangar, repo, SLOW)
        wait_for_step(hangar, "running")
        cancelled_at = time.monotonic()
        with hangar.api() as api:
            assert api.delete("/api/repos/octo/app/builds/1").status_code == 200
        build = hangar.wait_for_build("octo/app", 1, timeout=60)
        took = time.monotonic() - cancelled_at
    assert build["status"] == "killed"
    assert build["stages"][0]["steps"][-1]["status"] == "killed"
    print(f"cancel → build finished in {took:.2f}s")
