"""A push whose repository keeps a `.drone.jsonnet` or `.drone.star` builds the pipelines it evaluates to:
imports read from the mirror at the commit, Drone's variables set, errors ending the build located."""

from __future__ import annotations

from pathlib import Path

import httpx

from server.db.models import Build
from server.services import Services
from server.store.builds import list_stages
from tests.server.support import PushedRepo, register_repo, send_push
from tests.server.test_flow import build_of, run_jobs

STAR = """\
load("ci/steps.star", "step")

def main(ctx):
    return [
        {
            "kind": "pipeline",
            "name": "%s-%s-%s" % (ctx.build.branch, ctx.repo.name, os),
            "steps": [step(ctx.repo.slug)],
        }
        for os in ["alpine", "debian", "ubuntu"]
    ]
"""
STEPS = 'def step(slug):\n    return {"name": "hello", "image": "busybox", "commands": ["echo " + slug]}\n'
JSONNET = """\
local lib = import 'lib/pipeline.libsonnet';
[lib.pipeline(std.extVar('build.event') + '-' + v) for v in ['a', 'b']]
+ [{kind: 'secret', name: 's', get: {path: 'p', name: 'n'}}]
"""
LIB = """{
  pipeline(name):: {kind: 'pipeline', name: name, steps: [{name: 's', image: 'busybox', commands: ['true']}]},
}"""


async def _first_build(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo, files: dict[str, str]
) -> Build:
    """Push `files` to octo/app, send the hook, run the jobs: the build."""
    before, sha = pushed.push(files)
    assert (await send_push(client, "octo", "app", before, sha, "change")).status_code == 202
    await run_jobs(hangar, redis_url)
    return await build_of(hangar, 1)


async def _stage_names(hangar: Services, number: int = 1) -> list[str]:
    async with hangar.reading() as session:
        return [stage.name for stage in await list_stages(session, (await build_of(hangar, number)).id or 0)]


async def test_a_drone_star_is_found_evaluated_and_its_loads_read_at_the_commit(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    await _first_build(client, hangar, redis_url, pushed, {".drone.star": STAR, "ci/steps.star": STEPS})
    assert await _stage_names(hangar) == ["main-app-alpine", "main-app-debian", "main-app-ubuntu"]


async def test_a_configured_jsonnet_path_imports_from_its_folder(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, tmp_path: Path
) -> None:
    repo = PushedRepo(tmp_path / "jsonnet")
    await register_repo(hangar, "octo", "lib", str(repo.bare), config_path="ci/build.jsonnet")
    before, sha = repo.push({"ci/build.jsonnet": JSONNET, "ci/lib/pipeline.libsonnet": LIB})
    await send_push(client, "octo", "lib", before, sha, "jsonnet")
    await run_jobs(hangar, redis_url)
    assert await _stage_names(hangar) == ["push-a", "push-b"]


async def test_the_default_search_takes_yaml_before_jsonnet_before_starlark(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    files = {".drone.star": STAR, "ci/steps.star": STEPS, ".drone.jsonnet": JSONNET}
    build = await _first_build(client, hangar, redis_url, pushed, files)
    expected = ".drone.jsonnet:1:13: error: lib/pipeline.libsonnet: no such file"
    assert build.error.startswith(expected), build.error


async def test_an_evaluation_error_ends_the_build_in_error_at_its_line(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    broken = "def main(ctx):\n    n = 1\n    return n + ctx.build.branch\n"
    build = await _first_build(client, hangar, redis_url, pushed, {".drone.star": broken})
    assert build.status == "error"
    assert build.error == ".drone.star:3:12: error: Operation `+` not supported for types `int` and `string`"


async def test_an_import_out_of_the_repository_ends_the_build_in_error(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    text = "{\n  kind: 'pipeline',\n  x: importstr '../../etc/passwd',\n}"
    build = await _first_build(client, hangar, redis_url, pushed, {".drone.jsonnet": text})
    assert build.status == "error"
    assert build.error.startswith(".drone.jsonnet:3:6: error: ../../etc/passwd is outside the repository")


async def test_a_problem_in_the_produced_pipelines_names_the_pipeline_and_key(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    text = "[{kind: 'pipeline', name: 'p' + i, steps: [{name: 's', commands: ['true']}]} for i in ['1', '2']]"
    build = await _first_build(client, hangar, redis_url, pushed, {".drone.jsonnet": text})
    assert build.status == "error"
    assert ".drone.jsonnet (generated YAML):" in build.error
    assert "pipeline 'p1'.steps[0].image: step 's' has no image" in build.error
