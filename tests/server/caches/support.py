"""The shared cache's tests: stages accepted by named runners of the real app, and archives to keep."""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis
from starlette.applications import Starlette

from pipelines import BuildContext, compile_file
from pipelines import Repo as ContextRepo
from pipelines.runner_api import CHECKSUM_HEADER, LEASE_HEADER, RUNNER_HEADER, Assignment
from runner.client import RunnerClient
from server.app import create_app
from server.db.models import Repo, Stage
from server.services import Services
from tests.server.api.seed import StageSeed, add_build
from tests.server.conftest import RUNNER_SECRET, make_settings, opened

PIPELINE = "kind: pipeline\nname: test\nsteps:\n  - {name: build, image: busybox, commands: [make]}\n"


@dataclass
class Taken:
    """A stage a runner accepted: its client of the app, the assignment, the headers its calls carry."""

    client: RunnerClient
    assignment: Assignment

    @property
    def stage_id(self) -> int:
        return self.assignment.stage_id

    @property
    def lease(self) -> str:
        return self.assignment.lease

    @property
    def headers(self) -> dict[str, str]:
        """What a runner's call about the stage carries."""
        return {
            "Authorization": f"Bearer {RUNNER_SECRET}",
            RUNNER_HEADER: self.client.name,
            LEASE_HEADER: self.lease,
        }


def runner_client(app: Starlette, name: str) -> RunnerClient:
    """A runner named `name` speaking to the app in process (its shared secret)."""
    return RunnerClient("http://hangar.test", RUNNER_SECRET, name, transport=httpx.ASGITransport(app=app))


async def take_stage(hangar: Services, app: Starlette, repo: Repo, runner: str, **build: Any) -> Taken:
    """A new build of the repository (`build`: its cause's fields) whose one stage runner `runner` accepted
    through the runner API."""
    context = BuildContext(
        repo=ContextRepo(owner=repo.owner, name=repo.name, remote_url=repo.clone_url),
        event="push", branch="main", ref="refs/heads/main", sha="0" * 40, number=1,
    )  # fmt: skip
    plan = compile_file(PIPELINE, context, ".ci.yml").plans[0]
    seeded = await add_build(hangar, repo, "pending", [StageSeed("test")], **build)
    stage_id = seeded.stages[0].id or 0
    async with hangar.transaction() as (session, _changes):
        stage = await session.get(Stage, stage_id)
        assert stage is not None
        stage.plan = plan.model_dump(mode="json")
        session.add(stage)
    client = runner_client(app, runner)
    assignment = await client.accept(stage_id, 0)
    assert assignment is not None
    return Taken(client, assignment)


async def put_entry(
    http: httpx.AsyncClient, taken: Taken, key: str, body: bytes, checksum: str = "", **headers: str
) -> httpx.Response:
    """The app's answer to the stage's runner uploading `body` as the entry `key` (its checksum, unless
    another is given)."""
    sent = taken.headers | {CHECKSUM_HEADER: checksum or hashlib.sha256(body).hexdigest()} | headers
    url = f"/api/runner/stages/{taken.stage_id}/caches"
    return await http.put(url, params={"key": key}, content=body, headers=sent)


def archive(folder: Path, name: str, size: int) -> tuple[Path, str]:
    """A file of `size` random bytes, and its SHA-256."""
    path = folder / name
    data = os.urandom(size)
    path.write_bytes(data)
    return path, hashlib.sha256(data).hexdigest()


@contextlib.asynccontextmanager
async def cache_server(
    data: Path, database_url: str, redis_url: str
) -> AsyncIterator[tuple[Services, Starlette]]:
    """The real app and its services, for tests outside the server's (the Redis database emptied around)."""
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    try:
        async with opened(make_settings(str(data), database_url), redis_url) as hangar:
            yield hangar, create_app(hangar.settings, redis_url, hangar)
    finally:
        await redis.flushdb()
        await redis.aclose()
