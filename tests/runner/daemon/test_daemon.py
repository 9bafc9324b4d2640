"""The runner daemon against a stand-in server: it takes stages, runs them on the fake engine, reports."""

from __future__ import annotations

import asyncio
import contextlib
import re

import pytest

from pipelines.report import StageReport, StepReport
from pipelines.runner_api import LogBatch, ReportBatch, ReportItem, RunnerInfo
from pipelines.status import Status
from runner.client import Unauthorized
from runner.daemon import Daemon
from runner.engine import StageSpec
from tests.runner.daemon.standin import StandIn
from tests.runner.daemon.support import GatedEngine, one_step, pipeline, running_daemon, settings
from tests.runner.fake_engine import Behaviour, FakeEngine
from tests.runner.support import plan_of


def numbered(count: int, prefix: str = "line") -> list[bytes]:
    """Output of `count` numbered lines, in uneven chunks."""
    text = "".join(f"{prefix} {i}\n" for i in range(count)).encode()
    return [text[i : i + 977] for i in range(0, len(text), 977)]


def conversation(standin: StandIn, stage_id: int) -> list[str]:
    """The reports the stand-in took for the stage, in order (one at a time or several in one request);
    consecutive log batches of a step as one."""
    said: list[str] = []

    def hear(item: ReportItem) -> None:
        if item.step is not None:
            said.append(f"{item.step.name} {item.step.status}")
        elif item.logs is not None:
            line = f"log of step {item.logs.step}"
            said.extend([line] if not said or said[-1] != line else [])
        elif item.stage is not None:
            said.append(f"stage {item.stage.status}")

    for received in standin.received:
        parts = received.path.removeprefix("/api/runner/stages/").split("/")
        if received.status not in (200, 204) or parts[0] != str(stage_id):
            continue
        kind = parts[-1]
        if kind == "steps":
            hear(ReportItem(step=StepReport.model_validate_json(received.body)))
        elif kind == "logs":
            hear(ReportItem(logs=LogBatch.model_validate_json(received.body)))
        elif kind == "reports":
            for item in ReportBatch.model_validate_json(received.body).items:
                hear(item)
        elif kind == str(stage_id):
            hear(ReportItem(stage=StageReport.model_validate_json(received.body)))
    return said


async def test_a_stage_is_taken_run_and_reported_in_order(standin: StandIn) -> None:
    steps = """
  - {name: build, image: busybox, commands: [make]}
  - {name: test, image: busybox, commands: [make test]}
"""
    stage = standin.add(plan_of(pipeline(steps)))
    engine = FakeEngine({"build": Behaviour(output=numbered(3000)), "test": Behaviour(output=[b"ok\n"])})
    async with running_daemon(standin, engine):
        await standin.wait_for(lambda: stage.final is not None)

    assert stage.final is not None and stage.final.status == Status.SUCCESS
    assert [str(r.status) for r in stage.reports] == ["running", "success"]
    assert stage.step_states("build") == ["running", "success"]
    assert stage.step_states("test") == ["running", "success"]
    build, test = (step.number for step in stage.plan.steps)
    assert stage.lines(build) == [f"line {i}" for i in range(3000)]
    assert stage.lines(test) == ["ok"]
    for number in (build, test):  # each line was sent once: every batch starts where the last one ended
        batches = [b for b in stage.batches if b.step == number]
        ends = [0] + [b.first + len(b.lines) for b in batches]
        assert [b.first for b in batches] == ends[:-1]
    # what the server heard, in order: the stage starts, each step runs with its log, then the stage ends
    assert conversation(standin, stage.stage_id) == [
        "stage running",
        "build running",
        f"log of step {build}",
        "build success",
        "test running",
        f"log of step {test}",
        "test success",
        "stage success",
    ]
    assert standin.infos[0].capacity == 1 and standin.infos[0].platform.os == "linux"
    assert engine.alive() == []


async def test_a_stage_is_offered_and_taken_in_one_request(standin: StandIn) -> None:
    stage = standin.add(plan_of(one_step()))
    async with running_daemon(standin, FakeEngine()):
        await standin.wait_for(lambda: stage.final is not None)
    assert stage.final is not None and stage.final.status == Status.SUCCESS
    assert not [r for r in standin.received if r.path.endswith("/accept")]
    assert stage.accepts == 1


async def test_a_lost_answer_to_a_take_gets_the_same_stage_back_and_runs_it_once(standin: StandIn) -> None:
    standin.lose_takes = 1
    stage = standin.add(plan_of(one_step()))
    async with running_daemon(standin, FakeEngine()):
        await standin.wait_for(lambda: stage.final is not None)
    assert stage.final is not None and stage.final.status == Status.SUCCESS
    asked = [RunnerInfo.model_validate_json(r.body) for r in standin.received if r.path.endswith("/request")]
    assert asked[1].retry and asked[1].take_lease == asked[0].take_lease == stage.lease
    assert stage.accepts == 1  # taken once: the retry was answered with the stage already taken
    assert [str(r.status) for r in stage.reports] == ["running", "success"]


async def test_a_refused_accept_sends_the_runner_back_to_asking(standin: StandIn) -> None:
    standin.takes = False  # an older server: offers, then accepts
    standin.refuse_accepts = 1
    stage = standin.add(plan_of(one_step()))
    async with running_daemon(standin, FakeEngine()):
        await standin.wait_for(lambda: stage.final is not None)
    assert stage.accepts == 2
    assert stage.final is not None and stage.final.status == Status.SUCCESS
    offers = [r for r in standin.received if r.path.endswith("/request") and r.status == 200]
    assert len(offers) == 2  # offered, refused, asked again, offered at the new version


async def test_a_cancel_from_the_server_kills_the_stage(standin: StandIn) -> None:
    stage = standin.add(plan_of(one_step()), lease_seconds=3600)  # no renewal can carry the cancel
    engine = FakeEngine({"build": Behaviour(output=[b"working\n"], duration=300)})
    async with running_daemon(standin, engine):
        await standin.wait_for(lambda: stage.step_states("build") == ["running"])
        standin.cancel(stage)
        await standin.wait_for(lambda: stage.final is not None, timeout=20)
    assert stage.final is not None and stage.final.status == Status.KILLED
    assert stage.step_states("build")[-1] == "killed"
    assert engine.alive() == []


async def test_a_lease_refused_cancels_the_stage_and_the_runner_asks_again(standin: StandIn) -> None:
    lost = standin.add(plan_of(one_step()), lease_seconds=0.4)
    engine = GatedEngine(gated=["build"])
    async with running_daemon(standin, engine):
        await standin.wait_for(lambda: lost.step_states("build") == ["running"])
        standin.refuse_leases.add(lost.stage_id)
        await standin.wait_for(lambda: engine.destroyed)
        nxt = standin.add(plan_of(one_step("next")))
        await standin.wait_for(lambda: nxt.final is not None)
    assert any(verb == "stop" and who == "build" for _, verb, who in engine.events)
    assert lost.final is None  # a stage the server took back is no longer the runner's to report
    assert lost.renewals >= 1
    assert nxt.final is not None and nxt.final.status == Status.SUCCESS


async def test_capacity_two_runs_two_stages_at_once(standin: StandIn) -> None:
    first = standin.add(plan_of(one_step()))
    second = standin.add(plan_of(one_step()))
    engine = GatedEngine({"build": Behaviour(output=[b"done\n"])}, gated=["build"])
    async with running_daemon(standin, engine, capacity=2):
        # neither step can end before the gate opens: both run at once, or this waits forever
        await standin.wait_for(lambda: all(s.step_states("build") == ["running"] for s in (first, second)))
        engine.gates["build"].set()
        await standin.wait_for(lambda: first.final is not None and second.final is not None)
    for stage in (first, second):
        assert stage.final is not None and stage.final.status == Status.SUCCESS
        assert stage.lines(stage.plan.steps[0].number) == ["done"]
    assert standin.infos[0].capacity == 2


async def test_a_refused_token_stops_the_daemon_with_a_message(standin: StandIn) -> None:
    engine = FakeEngine()
    daemon = Daemon(
        settings(standin, token="wrong"), lambda: contextlib.nullcontext(engine), workspace=lambda _: None
    )
    with pytest.raises(Unauthorized, match=re.escape(f"{standin.url} refused runner 'test-runner'")):
        await asyncio.wait_for(daemon.run(), 30)


async def test_secret_values_never_leave_the_runner_unmasked(standin: StandIn) -> None:
    steps = """
  - name: deploy
    image: busybox
    environment: {TOKEN: {from_secret: token}}
    commands: [deploy]
"""
    secret = "hunter2-very-secret"
    stage = standin.add(plan_of(pipeline(steps)), secrets={"token": secret})
    output = [f"using {secret} now\n".encode(), b"half of it: hunter2-", b"very-secret\n"]
    engine = FakeEngine({"deploy": Behaviour(output=output, exit_code=1)})
    async with running_daemon(standin, engine):
        await standin.wait_for(lambda: stage.final is not None)
    assert engine.environment("deploy")["TOKEN"] == secret  # the step got the value ...
    number = stage.plan.steps[0].number
    assert stage.lines(number) == ["using ****** now", "half of it: ******"]
    sent = [r.body for r in standin.received if r.path != "/api/runner/stages/request"]
    assert not [body for body in sent if secret.encode() in body]  # ... the server never saw it


async def test_a_stop_lets_the_running_stage_finish_then_the_daemon_ends(standin: StandIn) -> None:
    stage = standin.add(plan_of(one_step()))
    engine = GatedEngine({"build": Behaviour(output=[b"finished\n"])}, gated=["build"])
    async with running_daemon(standin, engine) as (daemon, task):
        await standin.wait_for(lambda: stage.step_states("build") == ["running"])
        daemon.stop()
        waiting = standin.add(plan_of(one_step()))
        engine.gates["build"].set()
        await asyncio.wait_for(task, 30)
    assert stage.final is not None and stage.final.status == Status.SUCCESS
    assert stage.lines(stage.plan.steps[0].number) == ["finished"]
    assert waiting.accepts == 0


async def test_a_second_stop_cancels_the_running_stage(standin: StandIn) -> None:
    stage = standin.add(plan_of(one_step()))
    engine = FakeEngine({"build": Behaviour(duration=300)})
    async with running_daemon(standin, engine) as (daemon, task):
        await standin.wait_for(lambda: stage.step_states("build") == ["running"])
        daemon.stop()
        daemon.stop()
        await asyncio.wait_for(task, 30)
    assert stage.final is not None and stage.final.status == Status.KILLED
    assert engine.alive() == []


class SlowRemovalEngine(GatedEngine):
    """Each stage's removal waits for its own gate (a busy Docker engine removing volumes)."""

    def __init__(self) -> None:
        super().__init__()
        self.removal_gates: dict[str, asyncio.Event] = {}
        self.removing: list[str] = []

    async def destroy(self, stage: StageSpec) -> None:
        """Wait for the stage's gate, then remove it."""
        self.removing.append(stage.id)
        await self.removal_gates.setdefault(stage.id, asyncio.Event()).wait()
        await super().destroy(stage)


async def test_a_slot_takes_the_next_stage_while_the_last_one_is_removed_and_the_daemon_waits_for_removals(
    standin: StandIn,
) -> None:
    first, second, third = (standin.add(plan_of(one_step())) for _ in range(3))
    engine = SlowRemovalEngine()
    daemon = Daemon(settings(standin), lambda: contextlib.nullcontext(engine), workspace=lambda _: None)
    task = asyncio.create_task(daemon.run())
    try:
        await standin.wait_for(lambda: second.final is not None)  # one slot: the first is not removed yet
        assert first.final is not None and first.final.status == Status.SUCCESS
        assert engine.destroyed == [] and len(engine.removing) == 2
        assert third.final is None  # a slot's second removal waits for its first before a third stage
        engine.removal_gates[engine.removing[0]].set()
        await standin.wait_for(lambda: third.final is not None)
        daemon.stop()
        await asyncio.sleep(0.2)
        assert not task.done()  # the last two removals still run: the daemon waits for them
        for gate in engine.removal_gates.values():
            gate.set()
        await asyncio.wait_for(task, 30)
        assert sorted(engine.destroyed) == sorted(engine.removing) and len(engine.destroyed) == 3
        assert engine.alive() == []
    finally:
        daemon.kill()
        for gate in engine.removal_gates.values():
            gate.set()
        with contextlib.suppress(Unauthorized):
            await asyncio.wait_for(task, 60)
