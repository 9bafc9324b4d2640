"""Preparer: containers created ahead of their steps, replaced when stale, removed when not needed."""

from __future__ import annotations

import asyncio

import pytest

from pipelines.plan import Plan, StepPlan
from runner.engine import EngineError, StageSpec
from runner.environment import step_environment
from runner.prepare import Preparer
from tests.runner.fake_engine import Behaviour, FakeEngine
from tests.runner.support import plan_of

PIPELINE = """
kind: pipeline
name: default
clone: {disable: true}
steps:
  - {name: one, image: busybox, commands: [echo one]}
  - {name: two, image: busybox, commands: [echo two]}
  - {name: three, image: busybox, commands: [echo three]}
"""


class Stage:
    """A preparer over a fake engine, with the stage's failed steps to change the environment."""

    def __init__(self, lookahead: int, behaviours: dict[str, Behaviour] | None = None) -> None:
        self.plan: Plan = plan_of(PIPELINE)
        self.engine = FakeEngine(behaviours)
        self.failed: list[str] = []
        self.preparer = Preparer(
            self.engine,
            StageSpec("s1", self.plan),
            lambda step: step_environment(step, {}, self.failed),
            lookahead,
        )

    def step(self, name: str) -> StepPlan:
        step = self.plan.step(name)
        assert step is not None
        return step

    def created(self) -> list[str]:
        return [who for _, verb, who in self.engine.events if verb == "create"]

    def state(self, handle: str) -> str:
        return self.engine.containers[handle].state


async def settle() -> None:
    """Let the preparer's background work run as far as it can."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_containers_are_created_in_order_ahead_of_take_up_to_the_lookahead() -> None:
    stage = Stage(lookahead=2)
    stage.preparer.start(stage.plan.steps, lambda step: True)
    await settle()
    assert stage.created() == ["one", "two"]
    one = await stage.preparer.take(stage.step("one"))
    assert stage.engine.containers[one].spec.step.name == "one"
    await settle()
    assert stage.created() == ["one", "two", "three"]
    assert [await stage.preparer.take(stage.step(n)) for n in ("two", "three")] == ["c1", "c2"]
    assert len(stage.engine.containers) == 3, "a prepared container with the right environment is reused"
    await stage.preparer.close()


async def test_a_step_is_prepared_only_if_still_wanted() -> None:
    stage = Stage(lookahead=2)
    stage.preparer.start(stage.plan.steps, lambda step: step.name != "two")
    await settle()
    assert stage.created() == ["one", "three"]
    await stage.preparer.take(stage.step("two"))
    assert stage.created() == ["one", "three", "two"]
    await stage.preparer.close()


async def test_take_replaces_a_container_whose_environment_went_stale() -> None:
    stage = Stage(lookahead=2)
    stage.preparer.start(stage.plan.steps, lambda step: True)
    await settle()
    assert stage.engine.environment("two")["DRONE_BUILD_STATUS"] == "success"
    stage.failed.append("one")
    handle = await stage.preparer.take(stage.step("two"))
    assert handle != "c1"
    assert stage.engine.containers[handle].spec.environment["DRONE_BUILD_STATUS"] == "failure"
    assert stage.engine.containers[handle].spec.environment["DRONE_FAILED_STEPS"] == "one"
    await stage.preparer.close()
    assert stage.state("c1") == "removed", "the stale container must not be left behind"
    assert stage.state(handle) == "created"


async def test_a_failed_preparation_is_retried_by_take() -> None:
    stage = Stage(lookahead=1, behaviours={"one": Behaviour(create_error="registry unreachable")})
    stage.preparer.start(stage.plan.steps, lambda step: True)
    await settle()
    assert stage.created() == []
    stage.engine.behaviours["one"].create_error = ""  # the registry is back
    handle = await stage.preparer.take(stage.step("one"))
    assert stage.engine.containers[handle].spec.step.name == "one"
    await stage.preparer.close()


async def test_take_reports_an_error_that_persists() -> None:
    stage = Stage(lookahead=1, behaviours={"one": Behaviour(create_error="no such image")})
    stage.preparer.start(stage.plan.steps, lambda step: True)
    await settle()
    with pytest.raises(EngineError, match="no such image"):
        await stage.preparer.take(stage.step("one"))
    await stage.preparer.close()


async def test_discard_removes_the_prepared_container_and_frees_its_slot() -> None:
    stage = Stage(lookahead=1)
    stage.preparer.start(stage.plan.steps, lambda step: True)
    await settle()
    assert stage.created() == ["one"]
    stage.preparer.discard(stage.step("one"))
    await settle()
    assert stage.state("c0") == "removed"
    assert stage.created() == ["one", "two"]
    await stage.preparer.close()


async def test_a_step_discarded_before_its_turn_is_never_created() -> None:
    stage = Stage(lookahead=1)
    stage.preparer.start(stage.plan.steps, lambda step: True)
    stage.preparer.discard(stage.step("two"))
    await settle()
    await stage.preparer.take(stage.step("one"))
    await settle()
    assert stage.created() == ["one", "three"]
    await stage.preparer.close()


async def test_close_stops_preparing_and_waits_for_removals() -> None:
    stage = Stage(lookahead=1)
    stage.preparer.start(stage.plan.steps, lambda step: True)
    await settle()
    stage.preparer.discard(stage.step("one"))
    await stage.preparer.close()
    assert stage.state("c0") == "removed"
    await settle()
    assert stage.created() == ["one"], "nothing is created after close"
    assert [c for c in stage.engine.containers.values() if c.state == "running"] == []


async def test_close_leaves_no_container_of_a_step_discarded_while_being_created() -> None:
    stage = Stage(lookahead=1)
    stage.preparer.start(stage.plan.steps, lambda step: True)
    await asyncio.sleep(0)  # the creation of "one" is under way
    stage.preparer.discard(stage.step("one"))
    await stage.preparer.close()
    try:
        assert stage.engine.alive() == []
    finally:
        await settle()  # let the late removal run, so it is not dropped with the event loop


async def test_lookahead_zero_creates_nothing_ahead() -> None:
    stage = Stage(lookahead=0)
    stage.preparer.start(stage.plan.steps, lambda step: True)
    await settle()
    assert stage.created() == []
    handle = await stage.preparer.take(stage.step("two"))
    assert stage.created() == ["two"]
    assert stage.state(handle) == "created"
    await stage.preparer.close()
