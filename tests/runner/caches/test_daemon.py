"""The runner daemon keeps caches on its disk as the server's CachePolicy says: a stage saves, the next
restores (the scripted engine, a stand-in server)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import BaseModel
from starlette.responses import Response

from pipelines.runner_api import Assignment, CachePolicy, TakenStage
from pipelines.status import Status
from tests.runner.daemon.standin import Received, StandIn
from tests.runner.daemon.support import pipeline, running_daemon
from tests.runner.fake_engine import Behaviour, FakeEngine
from tests.runner.support import plan_of

STEPS = "  - {name: build, image: busybox, commands: [make]}\n"
CACHE = "cache:\n  - key: deps-{{ os }}\n    paths: [.deps]\n"


class CachingStandIn(StandIn):
    """The stand-in server, handing out assignments with a cache policy (accepted or taken)."""

    policy = CachePolicy(scope="repo-3", branch="main")

    def _reply(self, received: Received, status: int, body: BaseModel | None = None) -> Response:
        if isinstance(body, Assignment):
            body = body.model_copy(update={"cache": self.policy})
        elif isinstance(body, TakenStage):  # a stage taken in one request: its assignment is inside
            assignment = body.assignment.model_copy(update={"cache": self.policy})
            body = body.model_copy(update={"assignment": assignment})
        return super()._reply(received, status, body)


@pytest.fixture
async def standin() -> AsyncIterator[CachingStandIn]:
    server = CachingStandIn()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def test_a_stage_restores_what_the_one_before_saved(standin: CachingStandIn, tmp_path: Path) -> None:
    plan = plan_of(pipeline(STEPS).replace("steps:\n", CACHE + "steps:\n"))
    engine = FakeEngine({"build": Behaviour(stored={"/drone/src/.deps/lib": b"built"})})
    async with running_daemon(standin, engine, cache_dir=tmp_path):
        first = standin.add(plan)
        await standin.wait_for(lambda: first.final is not None)
        engine.volumes.clear()
        second = standin.add(plan)
        await standin.wait_for(lambda: second.final is not None)
    assert first.final is not None and first.final.status == Status.SUCCESS
    assert second.final is not None and second.final.status == Status.SUCCESS
    build = plan.steps[0].number
    assert first.lines(build)[0] == "[cache] no cache for deps-linux"
    assert "[cache] saved deps-linux" in first.lines(build)[-1]
    assert second.lines(build)[0].startswith("[cache] restored deps-linux (")
    assert list((tmp_path / "repo-3" / "gen-0").glob("*.entry"))
