"""An exit by a signal is checked against the engine (did it stop mid-step?) only when the runner did not
cause it: a step the runner stops (stage timeout, cancel) ends `killed` even when the engine answers late."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from pipelines.status import Status
from runner.docker import DockerEngine
from tests.runner.docker.test_acceptance import pipeline, run

pytestmark = pytest.mark.usefixtures("docker_host")


class UnansweringEngine(DockerEngine):
    """A real engine whose check after an exit by a signal gets no answer (a busy one's may come too late)."""

    checks = 0

    async def _answers(self) -> bool:
        self.checks += 1
        return False


@pytest.fixture
async def engine() -> AsyncIterator[UnansweringEngine]:
    async with await UnansweringEngine.connect() as engine:
        yield engine


async def test_a_step_the_stage_timeout_kills_is_killed_whatever_the_engine_answers(
    engine: UnansweringEngine,
) -> None:
    steps = '  - {name: slow, image: busybox, commands: ["sleep 300"]}\n'
    report, _ = await run(engine, pipeline(steps), timeout=4, grace=0)  # time to start on a slow machine
    assert report.status == Status.KILLED, report
    assert report.step("slow").status == Status.KILLED, report.step("slow")
    assert engine.checks == 0


async def test_a_step_killed_by_a_signal_the_runner_did_not_send_is_checked_against_the_engine(
    engine: UnansweringEngine,
) -> None:
    # `$$$$` is `$$` after substitution: the inner shell (not the container's PID 1) kills itself
    steps = "  - {name: doomed, image: busybox, commands: [\"sh -c 'kill -9 $$$$'\"]}\n"
    report, _ = await run(engine, pipeline(steps))
    step = report.step("doomed")
    assert step.status == Status.ERROR and "docker engine stopped" in step.error.lower(), step
    assert engine.checks == 1
