"""End to end through `hangar up`: a `.woodpecker/` folder with a `build.yaml` (a matrix of 2 x 2, one step
left out by `when: matrix:`) and a `deploy.yaml` that waits for every build and runs only on main: a push to
main runs the four builds, then deploy; a push to another branch runs the four and skips deploy saying why;
each workflow sends its own commit status."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.processes import Hangar, hangar_up
from tests.e2e.test_push_to_build import push_and_hook, register
from tests.peers import RecordingForge
from tests.server.support import PushedRepo, git, github_headers, github_push

BUILD = """\
matrix:
  GREETING: [hello, howdy]
  DB: [postgres, mysql]
steps:
  - name: greet
    image: busybox
    commands:
      - echo "${GREETING} from the $DB build of $CI_REPO"
  - name: mysql-only
    image: busybox
    commands: echo "mysql here"
    when:
      matrix:
        DB: mysql
"""
DEPLOY = """\
depends_on: [build]
when:
  - evaluate: 'CI_COMMIT_BRANCH == "main"'
steps:
  deploy:
    image: busybox
    commands: echo "deploying $CI_COMMIT_SHA"
"""
FILES = {".woodpecker/build.yaml": BUILD, ".woodpecker/deploy.yaml": DEPLOY}
BUILDS = [
    "build (DB=postgres, GREETING=hello)",
    "build (DB=postgres, GREETING=howdy)",
    "build (DB=mysql, GREETING=hello)",
    "build (DB=mysql, GREETING=howdy)",
]


@pytest.fixture
def hangar(tmp_path: Path, docker_host: str) -> Iterator[Hangar]:
    with hangar_up(tmp_path / "data") as running:
        yield running


def _final_states(forge: RecordingForge, sha: str) -> dict[str, str]:
    """Each commit status context's last state for `sha`."""
    states: dict[str, str] = {}
    for request in forge.requests:
        if request.path == f"/repos/octo/app/statuses/{sha}":
            states[request.body["context"]] = request.body["state"]
    return states


def _steps(stage: dict[str, Any]) -> list[tuple[str, str]]:
    return [(step["name"], step["status"]) for step in stage["steps"]]


async def test_a_push_to_main_runs_the_four_combinations_then_deploy(
    hangar: Hangar, tmp_path: Path, forge: RecordingForge
) -> None:
    repo = PushedRepo(tmp_path / "git")
    register(hangar, repo, forge)
    sha = push_and_hook(hangar, repo, FILES, "woodpecker files")
    build: dict[str, Any] = await asyncio.to_thread(hangar.wait_for_build, "octo/app", 1)
    assert build["status"] == "success", build
    stages = {stage["name"]: stage for stage in build["stages"]}
    assert list(stages) == [*BUILDS, "deploy"]
    for name in BUILDS:
        expected = [("clone", "success"), ("greet", "success")]
        if "mysql" in name:
            expected.append(("mysql-only", "success"))
        assert _steps(stages[name]) == expected, name
    assert _steps(stages["deploy"]) == [("clone", "success"), ("deploy", "success")]
    assert stages["deploy"]["started"] >= max(stages[name]["finished"] for name in BUILDS)
    with hangar.api() as api:
        number = stages["build (DB=mysql, GREETING=howdy)"]["number"]
        lines = [line["out"] for line in api.get(f"/api/repos/octo/app/builds/1/logs/{number}/2").json()]
    assert "howdy from the mysql build of octo/app" in lines
    await _until(
        lambda: len(_final_states(forge, sha)) == 6 and set(_final_states(forge, sha).values()) == {"success"}
    )
    assert set(_final_states(forge, sha)) == {
        "hangar/push",
        *(f"hangar/{name}" for name in [*BUILDS, "deploy"]),
    }


async def test_a_push_to_another_branch_runs_the_four_and_skips_deploy_saying_why(
    hangar: Hangar, tmp_path: Path, forge: RecordingForge
) -> None:
    repo = PushedRepo(tmp_path / "git")
    register(hangar, repo, forge)
    base = push_and_hook(hangar, repo, {"README.md": "hello\n"}, "no pipeline yet")
    await asyncio.to_thread(hangar.wait_for_build, "octo/app", 1)
    git(repo.work, "checkout", "--quiet", "-b", "feature")
    for name, text in FILES.items():
        (repo.work / name).parent.mkdir(parents=True, exist_ok=True)
        (repo.work / name).write_text(text)
    git(repo.work, "add", "-A")
    git(repo.work, "commit", "--quiet", "-m", "woodpecker files on a branch")
    git(repo.work, "push", "--quiet", "origin", "feature")
    sha = git(repo.work, "rev-parse", "HEAD").strip()
    body = github_push("octo", "app", base, sha, "woodpecker files on a branch", branch="feature")
    answer = httpx.post(f"{hangar.url}/hook", content=body, headers=github_headers(body), trust_env=False)
    assert answer.status_code == 202, answer.text
    build: dict[str, Any] = await asyncio.to_thread(hangar.wait_for_build, "octo/app", 2)
    assert build["status"] == "success", build
    stages = {stage["name"]: stage for stage in build["stages"]}
    assert list(stages) == [*BUILDS, "deploy"]
    assert all(stages[name]["status"] == "success" for name in BUILDS)
    assert stages["deploy"]["status"] == "skipped"
    assert stages["deploy"]["error"] == 'when: evaluate `CI_COMMIT_BRANCH == "main"` is false'
    assert _steps(stages["deploy"]) == []
    await _until(
        lambda: len(_final_states(forge, sha)) == 6 and set(_final_states(forge, sha).values()) == {"success"}
    )
    deploy = [r.body for r in forge.requests if r.body["context"] == "hangar/deploy"]
    assert "skipped" in deploy[-1]["description"]


async def _until(condition: Any, timeout: float = 30.0) -> None:
    """Wait for the worker to have sent what `condition` checks."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the commit statuses did not all arrive"
        await asyncio.sleep(0.2)
