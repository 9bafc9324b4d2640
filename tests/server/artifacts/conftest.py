"""Artifact fixtures: the app over each database, a repository with a running build its runner holds."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from pipelines.runner_api import CHECKSUM_HEADER, LEASE_HEADER, RUNNER_HEADER
from server.app import create_app
from server.db.models import Stage
from server.services import Services
from tests.server.api.conftest import hangar_each_db
from tests.server.api.seed import Seeded, StageSeed, add_build, add_repo
from tests.server.conftest import RUNNER_SECRET

__all__ = ["hangar_each_db"]
LEASE = "lease-1"
RUNNER = {"Authorization": f"Bearer {RUNNER_SECRET}", RUNNER_HEADER: "builder", LEASE_HEADER: LEASE}


@dataclass
class Running:
    """A running build of octo/hello whose stage runner `builder` holds under LEASE."""

    seeded: Seeded
    data: Path

    @property
    def stage_id(self) -> int:
        """The held stage."""
        return self.seeded.stages[0].id or 0

    @property
    def stored(self) -> Path:
        """Where the build's files are kept."""
        build = self.seeded.build
        return self.data / "artifacts" / str(build.repo_id) / str(build.id)

    def files(self) -> list[Path]:
        """Every file under the artifacts folder (uploads in progress included)."""
        return sorted(path for path in (self.data / "artifacts").rglob("*") if path.is_file())


async def hold(hangar: Services, private: bool = False) -> Running:
    """Seed the build; its stage is held by `builder` under LEASE."""
    repo = await add_repo(hangar, private=private)
    seeded = await add_build(hangar, repo, "running", [StageSeed("build", "running", runner="builder")])
    async with hangar.transaction() as (session, _changes):
        stage = await session.get(Stage, seeded.stages[0].id)
        assert stage is not None
        stage.lease = LEASE
        session.add(stage)
    return Running(seeded, hangar.settings.data)


@pytest.fixture
async def api(hangar_each_db: Services, redis_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """An in-process client of the application over each database (bodies may be binary)."""
    app = create_app(hangar_each_db.settings, redis_url, hangar_each_db)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hangar.test"
    ) as http:
        yield http


@pytest.fixture
async def running(hangar_each_db: Services) -> Running:
    """A held stage of a public repository."""
    return await hold(hangar_each_db)


async def put(
    api: httpx.AsyncClient,
    running: Running,
    path: str,
    content: bytes,
    *,
    step: int = 2,
    checksum: str = "",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Upload `content` as the step's file `path` (its checksum, unless given another)."""
    sent = RUNNER | {CHECKSUM_HEADER: checksum or hashlib.sha256(content).hexdigest()} | (headers or {})
    return await api.put(
        f"/api/runner/stages/{running.stage_id}/artifacts",
        params={"step": step, "path": path},
        content=content,
        headers=sent,
    )
