"""What must hold when things go wrong: lost answers, Redis hiccups, odd stages, failing compiles."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from arq.connections import ArqRedis
from sqlmodel import select

from pipelines import BuildCause
from pipelines.runner_api import RunnerInfo
from server import trigger
from server.db.models import Build, Delivery, Stage, Step
from server.jobs import compile_stranded_builds
from server.mirror import Mirror, MirrorError
from server.progress import cancel_build
from server.scheduler import offer_and_rest
from server.services import Services
from server.store.builds import create_build, list_stages
from server.store.deliveries import create_delivery
from server.store.repos import find_repo
from tests.e2e.processes import free_port
from tests.server.support import (
    PushedRepo,
    git,
    github_headers,
    github_push,
    register_repo,
    silent_git_server,
)
from tests.server.test_flow import INFO, PIPELINE, RUNNER, build_of, run_jobs


async def test_a_redelivery_of_a_hook_that_was_recorded_but_never_queued_builds_it(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    before, sha = pushed.push({".ci.yml": PIPELINE})
    body = github_push("octo", "app", before, sha, "x")
    headers = github_headers(body)
    hook = await client.post("/hook", content=body, headers=headers)
    assert hook.status_code == 202
    await hangar.redis.flushdb()  # the queued trigger is lost, as when Redis restarts without saving
    await run_jobs(hangar, redis_url)
    async with hangar.reading() as session:
        assert (await session.exec(select(Build))).all() == []
    again = await client.post("/hook", content=body, headers=headers)
    assert again.status_code == 200 and "duplicate" in again.json()
    await run_jobs(hangar, redis_url)
    assert (await build_of(hangar, 1)).sha == sha
    third = await client.post("/hook", content=body, headers=headers)
    await run_jobs(hangar, redis_url)
    async with hangar.reading() as session:
        assert len((await session.exec(select(Build))).all()) == 1 and third.status_code == 200


async def test_a_hook_while_redis_is_down_gets_503_with_retry_after_and_its_redelivery_builds(
    client: httpx.AsyncClient, hangar: Services, redis_url: str, pushed: PushedRepo
) -> None:
    before, sha = pushed.push({".ci.yml": PIPELINE})
    body = github_push("octo", "app", before, sha, "x")
    headers = github_headers(body)
    queue, hangar.jobs = hangar.jobs, ArqRedis(host="127.0.0.1", port=free_port())  # nothing listens there
    try:
        refused = await client.post("/hook", content=body, headers=headers)
    finally:
        await hangar.jobs.aclose()
        hangar.jobs = queue
    assert refused.status_code == 503, refused.text
    assert int(refused.headers["Retry-After"]) > 0 and "later" in refused.json()["error"]
    async with hangar.reading() as session:
        assert len((await session.exec(select(Delivery))).all()) == 1, "recorded all the same"

    again = await client.post("/hook", content=body, headers=headers)
    assert again.status_code == 200 and "duplicate" in again.json()
    await run_jobs(hangar, redis_url)
    assert (await build_of(hangar, 1)).sha == sha


async def test_runners_are_not_starved_by_stages_they_cannot_take(hangar: Services) -> None:
    repo = await register_repo(hangar, "octo", "arm", "/nowhere")
    async with hangar.transaction() as (session, _changes):
        stages: list[tuple[Stage, list[Step]]] = [
            (Stage(build_id=0, repo_id=0, number=n, name=f"s{n}", arch="arm64"), []) for n in range(1, 251)
        ]
        stages += [(Stage(build_id=0, repo_id=0, number=251, name="mine", labels={"gpu": "yes"}), [])]
        stages += [(Stage(build_id=0, repo_id=0, number=252, name="plain"), [])]
        await create_build(session, Build(repo_id=repo.id or 0, number=1), stages)
    async with hangar.reading() as session:
        plain = (await offer_and_rest(session, RunnerInfo()))[0]
        gpu = (await offer_and_rest(session, RunnerInfo(labels={"gpu": "yes"})))[0]
    assert plain is not None and plain.name == "plain"
    assert gpu is not None and gpu.name == "mine"


async def test_a_stage_whose_plan_cannot_be_read_ends_in_error_instead_of_being_offered_forever(
    client: httpx.AsyncClient, hangar: Services
) -> None:
    repo = await register_repo(hangar, "octo", "old", "/nowhere")
    async with hangar.transaction() as (session, _changes):
        stage = Stage(build_id=0, repo_id=0, number=1, name="from-an-older-hangar", plan={"steps": "?"})
        await create_build(session, Build(repo_id=repo.id or 0, number=1), [(stage, [])])
    offer = await client.post("/api/runner/stages/request", json=INFO, headers=RUNNER)
    assert offer.status_code == 200, offer.text
    accepted = await client.post(
        f"/api/runner/stages/{offer.json()['stage_id']}/accept",
        json={"version": offer.json()["version"], "lease": "lease-1"},
        headers=RUNNER,
    )
    assert accepted.status_code == 409 and "plan could not be read" in accepted.json()["error"], accepted.text
    build = await build_of(hangar, 1)
    assert build.status == "error" and build.finished is not None, "the build ends, it does not wait forever"
    async with hangar.reading() as session:
        assert (await offer_and_rest(session, RunnerInfo()))[0] is None, "the stage is no longer offered"


async def test_an_unexpected_failure_while_compiling_ends_the_build_in_error(
    client: httpx.AsyncClient,
    hangar: Services,
    redis_url: str,
    pushed: PushedRepo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explode(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("compiler bug")

    monkeypatch.setattr(trigger, "compile_configuration", explode)
    before, sha = pushed.push({".ci.yml": PIPELINE})
    body = github_push("octo", "app", before, sha, "x")
    await client.post("/hook", content=body, headers=github_headers(body))
    await run_jobs(hangar, redis_url)
    build = await build_of(hangar, 1)
    assert build.status == "error" and "compiler bug" in build.error


async def test_a_build_cancelled_while_its_commit_cannot_be_fetched_stays_killed(hangar: Services) -> None:
    repo = await register_repo(hangar, "octo", "gone", "/no/such/repository.git")
    async with hangar.transaction() as (session, changes):
        delivery = await create_delivery(
            session, repo.id or 0, "d1", "push", {"sha": "a" * 40, "ref": "refs/heads/main"}
        )
        build = await trigger.new_build(
            session, changes, repo, BuildCause(sha="a" * 40, ref="refs/heads/main")
        )
        assert delivery is not None
    async with hangar.transaction() as (session, changes):
        locked = await session.get(Build, build.id)
        assert locked is not None
        await cancel_build(session, changes, locked)
    assert (await build_of_repo(hangar, build.id or 0)).status == "killed"
    await trigger.compile_build(hangar, build.id or 0)
    assert (await build_of_repo(hangar, build.id or 0)).status == "killed"
    async with hangar.reading() as session:
        assert (await session.exec(select(Delivery))).one().build_id is None


async def build_of_repo(hangar: Services, build_id: int) -> Build:
    async with hangar.reading() as session:
        build = await session.get(Build, build_id, populate_existing=True)
    assert build is not None
    return build


def test_a_pull_request_changes_what_its_branch_changed_since_it_left_the_target(tmp_path: Path) -> None:
    repo = PushedRepo(tmp_path / "git")
    repo.push({"README": "base"})
    git(repo.work, "checkout", "--quiet", "-b", "feature")
    git(repo.work, "commit", "--quiet", "--allow-empty", "-m", "start")
    (repo.work / "feature.txt").write_text("f")
    git(repo.work, "add", "-A")
    git(repo.work, "commit", "--quiet", "-m", "feature")
    head = git(repo.work, "rev-parse", "HEAD").strip()
    git(repo.work, "push", "--quiet", "origin", "feature")
    git(repo.work, "checkout", "--quiet", "main")
    repo.push({"main_only.txt": "m"}, "main moves on")
    mirror = Mirror(tmp_path / "mirror.git", str(repo.bare))
    mirror.fetch("refs/heads/feature", head, "refs/heads/main")
    assert mirror.changed_files("refs/heads/main", head, merge_base=True) == ["feature.txt"]
    assert mirror.changed_files("refs/heads/main", head) == ["feature.txt", "main_only.txt"]


def test_a_fetch_from_a_forge_that_hangs_ends_with_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_HTTP_LOW_SPEED_TIME", "2")  # the two minutes, shortened
    with silent_git_server() as forge:
        mirror = Mirror(tmp_path / "mirror.git", f"http://127.0.0.1:{forge.port}/octo/app.git")
        with pytest.raises(MirrorError, match="too slow"):
            mirror.fetch("refs/heads/main", "a" * 40)


async def test_a_build_made_but_never_compiled_is_compiled_by_the_workers_sweep(
    hangar: Services, pushed: PushedRepo
) -> None:
    async with hangar.reading() as session:
        repo = await find_repo(session, "octo", "app")
    assert repo is not None
    _, sha = pushed.push({".ci.yml": PIPELINE})
    cause = BuildCause(sha=sha, ref="refs/heads/main", branch="main")
    async with hangar.transaction() as (session, changes):  # made, then its maker was killed
        stranded = await trigger.new_build(session, changes, repo, cause)
        stranded.created -= 600
        fresh = await trigger.new_build(session, changes, repo, cause)  # being compiled right now
    assert await compile_stranded_builds({"hangar": hangar}) == 1
    async with hangar.reading() as session:
        assert [stage.name for stage in await list_stages(session, stranded.id or 0)] == ["test"]
        assert list(await list_stages(session, fresh.id or 0)) == []
    await trigger.compile_build(hangar, stranded.id or 0)  # a late retry of its maker stores nothing twice
    async with hangar.reading() as session:
        assert len(await list_stages(session, stranded.id or 0)) == 1
    assert await compile_stranded_builds({"hangar": hangar}) == 0
