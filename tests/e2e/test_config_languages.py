"""End to end: a repository whose pipelines come from a `.drone.star` or a `.drone.jsonnet` (a matrix of three
from a list, a step decided by the branch) builds all three stages in Docker through `hangar up`."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.processes import Hangar, hangar_up
from tests.e2e.test_push_to_build import push_and_hook, register
from tests.peers import RecordingForge
from tests.server.support import PushedRepo

STAR = """\
load("ci/steps.star", "hello")

def pipeline(ctx, distro):
    steps = [hello(distro)]
    if ctx.build.branch == ctx.repo.branch:
        say = "echo on " + ctx.build.branch
        steps.append({"name": "on-default-branch", "image": "busybox", "commands": [say]})
    else:
        steps.append({"name": "elsewhere", "image": "busybox", "commands": ["true"]})
    return {"kind": "pipeline", "name": distro, "steps": steps}

def main(ctx):
    return [pipeline(ctx, distro) for distro in ["alpine", "debian", "ubuntu"]]
"""
STAR_STEPS = """\
def hello(distro):
    return {"name": "hello", "image": "busybox", "commands": ["echo hello from " + distro]}
"""
JSONNET = """\
local steps = import 'ci/steps.libsonnet';
local branch = std.extVar('build.branch');
[
  {
    kind: 'pipeline',
    name: distro,
    steps: [steps.hello(distro)] + (
      if branch == std.extVar('repo.branch')
      then [{ name: 'on-default-branch', image: 'busybox', commands: ['echo on ' + branch] }]
      else [{ name: 'elsewhere', image: 'busybox', commands: ['true'] }]
    ),
  }
  for distro in ['alpine', 'debian', 'ubuntu']
]
"""
JSONNET_STEPS = "{ hello(d):: { name: 'hello', image: 'busybox', commands: ['echo hello from ' + d] } }\n"


@pytest.fixture
def hangar(tmp_path: Path, docker_host: str) -> Iterator[Hangar]:
    with hangar_up(tmp_path / "data") as running:
        yield running


@pytest.mark.parametrize(
    "files",
    [
        pytest.param({".drone.star": STAR, "ci/steps.star": STAR_STEPS}, id="starlark"),
        pytest.param({".drone.jsonnet": JSONNET, "ci/steps.libsonnet": JSONNET_STEPS}, id="jsonnet"),
    ],
)
async def test_a_generated_matrix_runs_three_stages(
    hangar: Hangar, tmp_path: Path, forge: RecordingForge, files: dict[str, str]
) -> None:
    repo = PushedRepo(tmp_path / "git")
    register(hangar, repo, forge)
    push_and_hook(hangar, repo, files, "a generated matrix")
    build: dict[str, Any] = await asyncio.to_thread(hangar.wait_for_build, "octo/app", 1)
    assert build["status"] == "success", build
    stages = {stage["name"]: stage for stage in build["stages"]}
    assert sorted(stages) == ["alpine", "debian", "ubuntu"]
    for stage in stages.values():
        steps = [(step["name"], step["status"]) for step in stage["steps"]]
        assert steps == [("clone", "success"), ("hello", "success"), ("on-default-branch", "success")]
    with hangar.api() as api:
        number = stages["debian"]["number"]
        lines = [line["out"] for line in api.get(f"/api/repos/octo/app/builds/1/logs/{number}/2").json()]
    assert "hello from debian" in lines
