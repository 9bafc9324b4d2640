"""How few requests a stage costs the server: its reports together, no cancel watch while it is young, and a
cancel heard all the same (in a report's answer, or once the watch opens)."""

from __future__ import annotations

import pytest

from pipelines.status import Status
from tests.runner.daemon.standin import Received, StandIn, StandInStage
from tests.runner.daemon.support import GatedEngine, one_step, running_daemon
from tests.runner.fake_engine import Behaviour
from tests.runner.support import plan_of


def about(standin: StandIn, stage: StandInStage) -> list[Received]:
    """The requests about that stage (its take aside)."""
    prefix = f"/api/runner/stages/{stage.stage_id}"
    return [r for r in standin.received if r.path == prefix or r.path.startswith(prefix + "/")]


def routes(received: list[Received]) -> list[str]:
    return [f"{r.method} {r.path.rsplit('/', 1)[-1]}" for r in received]


async def test_a_short_stage_reports_in_one_request_and_opens_no_watch(standin: StandIn) -> None:
    stage = standin.add(plan_of(one_step()))
    engine = GatedEngine({"build": Behaviour(output=[b"one\ntwo\n", b"three\n"])})
    async with running_daemon(standin, engine):
        await standin.wait_for(lambda: stage.final is not None)
    assert routes(about(standin, stage)) == ["POST reports"]
    assert stage.step_states("build") == ["running", "success"]
    assert [str(report.status) for report in stage.reports] == ["running", "success"]
    assert stage.lines(stage.plan.steps[0].number) == ["one", "two", "three"]


async def test_a_silent_steps_running_state_reaches_the_server_while_it_runs(standin: StandIn) -> None:
    stage = standin.add(plan_of(one_step()))
    engine = GatedEngine({"build": Behaviour(output=[b"late\n"])}, gated=["build"])
    async with running_daemon(standin, engine):
        await standin.wait_for(lambda: stage.step_states("build") == ["running"], timeout=15)
        assert stage.final is None and stage.lines(stage.plan.steps[0].number) == []
        engine.gates["build"].set()
        await standin.wait_for(lambda: stage.final is not None)
    assert stage.step_states("build") == ["running", "success"]
    assert stage.lines(stage.plan.steps[0].number) == ["late"]


async def test_a_cancel_said_in_a_reports_answer_kills_the_stage(
    standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("runner.daemon.WATCH_DELAY_SECONDS", 3600.0)  # no watch could hear it
    stage = standin.add(plan_of(one_step()), lease_seconds=3600)  # nor a lease renewal
    standin.cancel(stage)  # cancelled before its runner even took it: the first report's answer says so
    engine = GatedEngine({"build": Behaviour(output=[b"working\n"])}, gated=["build"])
    async with running_daemon(standin, engine):
        await standin.wait_for(lambda: stage.final is not None, timeout=20)
    assert stage.final is not None and stage.final.status == Status.KILLED
    assert "GET watch" not in routes(about(standin, stage))
    assert engine.alive() == []


async def test_a_cancel_during_the_watch_delay_is_heard_once_the_watch_opens(
    standin: StandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("runner.daemon.WATCH_DELAY_SECONDS", 0.5)
    standin.report_cancels = False  # a server older than cancels in report answers
    stage = standin.add(plan_of(one_step()), lease_seconds=3600)
    engine = GatedEngine({"build": Behaviour(output=[b"working\n"])}, gated=["build"])
    async with running_daemon(standin, engine):
        await standin.wait_for(lambda: stage.state == "running")
        standin.cancel(stage)
        await standin.wait_for(lambda: stage.final is not None, timeout=20)
    assert stage.final is not None and stage.final.status == Status.KILLED
    watches = [r for r in about(standin, stage) if r.path.endswith("/watch")]
    assert watches and watches[0].status == 200, "the watch answered the cancel at once"
    assert engine.alive() == []
