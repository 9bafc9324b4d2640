"""Caches on a real Docker engine: what a step wrote into a cached path is there in the next build."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from pipelines.runner_api import CachePolicy
from pipelines.status import Status
from runner.caches.setup import disk_setup
from runner.docker import DockerEngine
from runner.executor import StageOptions, run_stage
from runner.workspace import local_workspace
from tests.runner.support import RecordingReporter, plan_of

pytestmark = pytest.mark.usefixtures("docker_host")

PIPELINE = """
kind: pipeline
name: default
cache:
  - key: build-{{ checksum "deps.lock" }}
    paths: [.cache/build]
steps:
  - name: build
    image: busybox
    commands:
      - cat .cache/build/made 2>/dev/null || echo "nothing made before"
      - cat "$PIP_CACHE_DIR/wheel" 2>/dev/null || echo "nothing downloaded before"
      - mkdir -p .cache/build && echo "made by build $BUILD" > .cache/build/made
      - echo "downloaded by build $BUILD" > "$PIP_CACHE_DIR/wheel"
      - exit $EXIT
"""


@pytest.fixture
async def engine() -> AsyncIterator[DockerEngine]:
    async with await DockerEngine.connect() as engine:
        yield engine


async def _build(
    engine: DockerEngine, tmp_path: Path, number: int, *, exit_code: int = 0, save: bool = True
) -> tuple[Status, list[str]]:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    (project / "requirements.txt").write_text("tiny==1.0\n")
    if not (project / "deps.lock").exists():
        (project / "deps.lock").write_text("v1\n")
    text = PIPELINE.replace("$BUILD", str(number)).replace("$EXIT", str(exit_code))
    reporter = RecordingReporter()
    policy = CachePolicy(scope="repo-7", branch="main", save=save)
    options = StageOptions(cache=disk_setup(policy, tmp_path / "cache"))
    report = await run_stage(
        engine, reporter, plan_of(text), workspace=local_workspace(project), options=options
    )
    return report.status, reporter.text("clone") + reporter.text("build")


def _entries(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "cache").glob("*/*/*.entry"))


async def test_the_second_build_finds_what_the_first_wrote(engine: DockerEngine, tmp_path: Path) -> None:
    status, lines = await _build(engine, tmp_path, 1)
    assert status == Status.SUCCESS, lines
    assert "nothing made before" in lines and "nothing downloaded before" in lines
    assert any(line.startswith("[cache] saved build-") for line in lines), lines
    assert any(line.startswith("[cache] saved auto-pip-") for line in lines), lines

    status, lines = await _build(engine, tmp_path, 2)
    assert status == Status.SUCCESS, lines
    assert "made by build 1" in lines and "downloaded by build 1" in lines, lines
    assert any(line.startswith("[cache] restored build-") for line in lines), lines


async def test_a_failing_stage_saves_nothing(engine: DockerEngine, tmp_path: Path) -> None:
    status, lines = await _build(engine, tmp_path, 1, exit_code=1)
    assert status == Status.FAILURE
    assert not any("saved" in line for line in lines), lines
    assert _entries(tmp_path) == []


async def test_a_fork_restores_but_saves_nothing(engine: DockerEngine, tmp_path: Path) -> None:
    await _build(engine, tmp_path, 1)
    saved = _entries(tmp_path)
    (tmp_path / "project" / "deps.lock").write_text("v2 from the fork\n")
    status, lines = await _build(engine, tmp_path, 2, save=False)
    assert status == Status.SUCCESS, lines
    assert "made by build 1" in lines, "the fork reads the newest build- entry of its target"
    assert any(line.startswith("[cache] cache not saved: a pull request from a fork") for line in lines)
    assert _entries(tmp_path) == saved


async def test_a_corrupt_entry_is_ignored_with_a_note(engine: DockerEngine, tmp_path: Path) -> None:
    await _build(engine, tmp_path, 1)
    for entry in _entries(tmp_path):
        data = bytearray(entry.read_bytes())
        data[len(data) // 2] ^= 0xFF
        entry.write_bytes(bytes(data))
    status, lines = await _build(engine, tmp_path, 2)
    assert status == Status.SUCCESS, lines
    assert sum("ignored a corrupt entry" in line for line in lines) == 2, lines
    assert "nothing made before" in lines and "nothing downloaded before" in lines
    assert any(line.startswith("[cache] saved build-") for line in lines), "saved afresh"
