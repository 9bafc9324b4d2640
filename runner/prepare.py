"""Create containers ahead of time: while one step runs, the next ones are pulled and created."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from pipelines.plan import StepPlan
from runner.engine import ContainerSpec, Engine, EngineError, StageSpec, quietly
from runner.tasks import stop_task

EnvironmentFor = Callable[[StepPlan], dict[str, str]]


class Preparer:
    """Keeps up to `lookahead` containers being created or ready, in the order steps are expected to run.

    A container is created with the environment the step would get now; if the stage's status changed by
    the time the step starts, `take` replaces it with a fresh one, so the step never sees a stale status.
    """

    def __init__(
        self, engine: Engine, stage: StageSpec, environment_for: EnvironmentFor, lookahead: int
    ) -> None:
        self._engine = engine
        self._stage = stage
        self._environment_for = environment_for
        self._slots = asyncio.Semaphore(max(lookahead, 0))
        self._enabled = lookahead > 0
        self._created: dict[str, tuple[asyncio.Task[str], dict[str, str]]] = {}
        self._claimed: set[str] = set()
        self._loop: asyncio.Task[None] | None = None
        self._leftovers: list[asyncio.Task[None]] = []

    def start(self, steps: Sequence[StepPlan], wanted: Callable[[StepPlan], bool]) -> None:
        """Begin preparing steps in this order, each only if `wanted(step)` still holds at its turn."""
        if self._enabled:
            self._loop = asyncio.create_task(self._prepare(steps, wanted))

    async def take(self, step: StepPlan) -> str:
        """A container for the step, with its current environment: the prepared one if still right."""
        self._claimed.add(step.name)
        environment = self._environment_for(step)
        prepared = self._created.pop(step.name, None)
        if prepared is not None:
            task, prepared_env = prepared
            try:  # the slot stays taken until this creation is over: fewer at once, the first one sooner
                handle = await task
            except EngineError:
                pass
            else:
                if prepared_env == environment:
                    return handle
                self._discard_handle(handle)
            finally:
                self._slots.release()
        return await self._engine.create(self._stage, ContainerSpec(step, environment))

    def discard(self, step: StepPlan) -> None:
        """The step will not run: free its slot and remove its container if one was made."""
        self._claimed.add(step.name)
        prepared = self._created.pop(step.name, None)
        if prepared is not None:
            self._slots.release()
            creation = prepared[0]
            creation.cancel()  # no waiting for a pull in flight; a container it made goes with the stage
            self._leftovers.append(asyncio.create_task(self._remove_when_created(creation)))

    async def close(self) -> None:
        """Stop preparing; wait for removals in flight (the stage's destroy removes anything left)."""
        await stop_task(self._loop)
        for task, _ in self._created.values():
            task.cancel()
        await asyncio.gather(
            *(t for t, _ in self._created.values()), *self._leftovers, return_exceptions=True
        )
        self._created.clear()

    async def _prepare(self, steps: Sequence[StepPlan], wanted: Callable[[StepPlan], bool]) -> None:
        for step in steps:
            await self._slots.acquire()
            if step.name in self._claimed or not wanted(step):
                self._slots.release()
                continue
            environment = self._environment_for(step)
            task = asyncio.create_task(self._engine.create(self._stage, ContainerSpec(step, environment)))
            self._created[step.name] = (task, environment)

    async def _remove_when_created(self, creation: asyncio.Task[str]) -> None:
        await asyncio.wait([creation])
        if not creation.cancelled() and creation.exception() is None:
            await quietly(self._engine.remove(creation.result()))

    def _discard_handle(self, handle: str) -> None:
        self._leftovers.append(asyncio.create_task(quietly(self._engine.remove(handle))))
