"""Helpers for the daemon's tests: an engine whose steps wait for a gate, and a daemon run beside the test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping

from runner.client import Unauthorized
from runner.daemon import Daemon
from runner.daemon_cli import load_settings
from runner.engine import ContainerSpec, StageSpec
from runner.settings import RunnerSettings
from tests.runner.daemon.standin import TOKEN, StandIn
from tests.runner.fake_engine import Behaviour, FakeContainer, FakeEngine

RUNNER = "test-runner"


class GatedEngine(FakeEngine):
    """The fake engine, where gated steps print and end only once their gate opens; stages kept apart."""

    def __init__(self, behaviours: Mapping[str, Behaviour] | None = None, gated: Iterable[str] = ()) -> None:
        super().__init__(behaviours)
        self.gates = {name: asyncio.Event() for name in gated}
        self.stage_of: dict[str, str] = {}
        self.destroyed: list[str] = []

    async def create(self, stage: StageSpec, spec: ContainerSpec) -> str:
        """Remember which stage the container belongs to."""
        handle = await super().create(stage, spec)
        self.stage_of[handle] = stage.id
        return handle

    async def _play(self, container: FakeContainer) -> None:
        gate = self.gates.get(container.spec.step.name)
        if gate is not None:
            await gate.wait()
        await super()._play(container)

    async def destroy(self, stage: StageSpec) -> None:
        """Remove the containers of that stage only."""
        for handle, container in self.containers.items():
            if self.stage_of.get(handle) == stage.id and container.state != "removed":
                await self.remove(handle)
        self.stages.discard(stage.id)
        self.destroyed.append(stage.id)


def settings(standin: StandIn, **overrides: object) -> RunnerSettings:
    """Settings of a runner of that stand-in server."""
    given: dict[str, object] = {"server": standin.url, "token": TOKEN, "name": RUNNER, **overrides}
    return load_settings(**given)


@contextlib.asynccontextmanager
async def running_daemon(
    standin: StandIn, engine: FakeEngine, **overrides: object
) -> AsyncIterator[tuple[Daemon, asyncio.Task[None]]]:
    """A daemon serving the stand-in on the engine (no workspace), killed and awaited at the end."""
    daemon = Daemon(
        settings(standin, **overrides), lambda: contextlib.nullcontext(engine), workspace=lambda _: None
    )
    task = asyncio.create_task(daemon.run())
    try:
        yield daemon, task
    finally:
        daemon.kill()
        with contextlib.suppress(Unauthorized):
            await asyncio.wait_for(task, 60)


def pipeline(steps: str) -> str:
    """A pipeline file without a clone step."""
    return f"kind: pipeline\nname: default\nclone: {{disable: true}}\nsteps:\n{steps}"


def one_step(name: str = "build") -> str:
    """A pipeline of one step."""
    return pipeline(f"  - {{name: {name}, image: busybox, commands: [make]}}\n")
