"""A push whose repository keeps Woodpecker files builds their workflows: a `.woodpecker/` folder (one
workflow per file, a matrix as its combinations), after Drone's files; the build records its files; a
workflow its `when` leaves out is shown skipped with the reason; each workflow has its own commit status."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlmodel import col, select

from server.db.models import Build, Stage
from server.services import Services
from server.store.builds import list_stages
from tests.peers import RecordingForge
from tests.server.support import PushedRepo, register_repo, send_push
from tests.server.test_flow import build_of, run_jobs

BUILD = """\
matrix:
  GO: ["1.22", "1.23"]
  DB: [postgres, mysql]
steps:
  - name: test
    image: golang:${GO}
    commands: go test -tags ${DB}
"""
DEPLOY = """\
depends_on: [build]
when:
  - evaluate: 'CI_COMMIT_MESSAGE contains "deploy"'
steps:
  deploy:
    image: alpine
    commands: echo deploying
"""
COMBINATIONS = [
    "build (DB=postgres, GO=1.22)",
    "build (DB=postgres, GO=1.23)",
    "build (DB=mysql, GO=1.22)",
    "build (DB=mysql, GO=1.23)",
]


async def _build(
    client: httpx.AsyncClient,
    hangar: Services,
    redis_url: str,
    repo: PushedRepo,
    files: dict[str, str],
    message: str,
) -> tuple[Build, list[Stage]]:
    before, sha = repo.push(files, message)
    assert (await send_push(client, "octo", "app", before, sha, message)).status_code == 202
    await run_jobs(hangar, redis_url)
    build = await build_of(hangar, 1)
    async with hangar.reading() as session:
        return build, list(await list_stages(session, build.id or 0))


async def _config_files(hangar: Services, build: Build) -> list[str]:
    async with hangar.reading() as session:
        context = (await session.exec(select(col(Build.context)).where(col(Build.id) == build.id))).one()
    files: list[str] = context["config_files"]
    return files


async def _repo(hangar: Services, tmp_path: Path, **fields: object) -> PushedRepo:
    repo = PushedRepo(tmp_path / "git")
    await register_repo(hangar, "octo", "app", str(repo.bare), **fields)
    return repo


async def test_a_woodpecker_folder_builds_each_combination_then_the_workflow_depending_on_them(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, tmp_path: Path, forge: RecordingForge
) -> None:
    repo = await _repo(hangar, tmp_path, api_url=forge.url, api_token="t")
    files = {".woodpecker/build.yaml": BUILD, ".woodpecker/deploy.yml": DEPLOY}
    build, stages = await _build(client, hangar, redis_url, repo, files, "please deploy")
    assert [stage.name for stage in stages] == [*COMBINATIONS, "deploy"]
    assert [stage.status for stage in stages] == ["pending"] * 4 + ["waiting_on_dependencies"]
    assert stages[-1].depends_on == COMBINATIONS
    assert await _config_files(hangar, build) == [".woodpecker/build.yaml", ".woodpecker/deploy.yml"]
    page = (await client.get("/octo/app/1")).text
    shown = page.split('id="config-files"')[1].split("</dd>")[0]
    assert "<code>.woodpecker/build.yaml</code>, <code>.woodpecker/deploy.yml</code>" in shown
    contexts = {request.body["context"] for request in forge.requests}
    assert contexts == {"hangar/push", *(f"hangar/{name}" for name in [*COMBINATIONS, "deploy"])}


async def test_a_workflow_left_out_is_a_skipped_stage_saying_why_with_its_own_status(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, tmp_path: Path, forge: RecordingForge
) -> None:
    repo = await _repo(hangar, tmp_path, api_url=forge.url, api_token="t")
    files = {".woodpecker/build.yaml": BUILD, ".woodpecker/deploy.yml": DEPLOY}
    _, stages = await _build(client, hangar, redis_url, repo, files, "just a fix")
    deploy = stages[-1]
    assert (deploy.name, deploy.status) == ("deploy", "skipped")
    assert deploy.error == 'when: evaluate `CI_COMMIT_MESSAGE contains "deploy"` is false'
    page = (await client.get("/octo/app/1")).text
    assert "when: evaluate `CI_COMMIT_MESSAGE contains &#34;deploy&#34;` is false" in page
    statuses = [r.body for r in forge.requests if r.body["context"] == "hangar/deploy"]
    assert statuses[-1]["state"] == "success" and "skipped" in statuses[-1]["description"]


async def test_drone_files_come_first_and_keep_the_single_build_status(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, tmp_path: Path, forge: RecordingForge
) -> None:
    repo = await _repo(hangar, tmp_path, api_url=forge.url, api_token="t")
    drone = "kind: pipeline\nname: drone\nsteps:\n  - name: s\n    image: busybox\n    commands: [true]\n"
    files = {".drone.yml": drone, ".woodpecker/build.yaml": BUILD}
    build, stages = await _build(client, hangar, redis_url, repo, files, "both")
    assert [stage.name for stage in stages] == ["drone"]
    assert await _config_files(hangar, build) == [".drone.yml"]
    assert {request.body["context"] for request in forge.requests} == {"hangar/push"}


async def test_a_single_woodpecker_file_and_a_configured_folder(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, tmp_path: Path
) -> None:
    repo = await _repo(hangar, tmp_path, config_path="ci/workflows/")
    files = {
        ".woodpecker.yaml": DEPLOY,
        "ci/workflows/build.yml": BUILD,
        "ci/workflows/notes.txt": "not yaml",
    }
    build, stages = await _build(client, hangar, redis_url, repo, files, "folder")
    assert [stage.name for stage in stages] == COMBINATIONS
    assert await _config_files(hangar, build) == ["ci/workflows/build.yml"]


async def test_an_error_in_a_workflow_file_ends_the_build_located(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, tmp_path: Path
) -> None:
    repo = await _repo(hangar, tmp_path)
    broken = "steps:\n  build:\n    image: alpine\n    when:\n      evaluate: 'CI_COMMIT_BRANCH =='\n"
    build, stages = await _build(client, hangar, redis_url, repo, {".woodpecker.yml": broken}, "broken")
    assert (build.status, stages) == ("error", [])
    assert build.error.startswith(".woodpecker.yml:5:37: error: steps.build.when.evaluate: evaluate: "), (
        build.error
    )
