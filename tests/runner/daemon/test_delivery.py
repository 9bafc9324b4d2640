"""Reports reach the server exactly once, in order, whatever happens to it meanwhile."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable

import pytest

from pipelines.report import LogLine, StepReport
from pipelines.status import Status
from runner.client import RunnerClient
from runner.remote import MAX_BATCH_LINES, RemoteReporter
from tests.runner.daemon.standin import TOKEN, StandIn, StandInStage
from tests.runner.daemon.support import RUNNER, GatedEngine, one_step, running_daemon
from tests.runner.fake_engine import Behaviour
from tests.runner.support import plan_of

LINES = 12_000


def output(count: int = LINES) -> list[bytes]:
    text = "".join(f"line {i}\n" for i in range(count)).encode()
    return [text[i : i + 500] for i in range(0, len(text), 500)]


def assert_each_line_once(stage: StandInStage, count: int = LINES) -> None:
    """The stored log is every line once, in order; accepted batches followed each other without overlap."""
    number = stage.plan.steps[0].number
    assert stage.lines(number) == [f"line {i}" for i in range(count)]
    batches = [batch for batch in stage.batches if batch.step == number]
    assert batches[0].first == 0
    for before, after in itertools.pairwise(batches):
        assert after.first == before.first + len(before.lines)


def assert_coalesced(stage: StandInStage) -> None:
    """Lines held while the server was away left in few batches, none over the batch limit."""
    sizes = [len(batch.lines) for batch in stage.batches]
    assert max(sizes) == MAX_BATCH_LINES
    assert len(sizes) <= 2 + LINES // MAX_BATCH_LINES


Action = Callable[[], Awaitable[None]]


async def run_through_outage(standin: StandIn, stage: StandInStage, down: Action, up: Action) -> None:
    """Run the stage; once its step runs the server goes away, the step prints and ends; then it is back."""
    engine = GatedEngine({"build": Behaviour(output=output())}, gated=["build"])
    async with running_daemon(standin, engine):
        await standin.wait_for(lambda: stage.step_states("build") == ["running"])
        await down()
        engine.gates["build"].set()
        await standin.wait_for(lambda: engine.destroyed)  # the stage ended here while the server was away
        await up()
        await standin.wait_for(lambda: stage.final is not None)


def refused(standin: StandIn) -> int:
    return len([r for r in standin.received if r.status == 503])


async def test_a_server_answering_503_gets_every_report_once_it_is_back(standin: StandIn) -> None:
    stage = standin.add(plan_of(one_step()))

    async def down() -> None:
        standin.unavailable = True

    async def up() -> None:
        before = refused(standin)
        await standin.wait_for(lambda: refused(standin) > before)  # the runner still tries
        standin.unavailable = False

    await run_through_outage(standin, stage, down, up)
    assert stage.final is not None and stage.final.status == Status.SUCCESS
    assert stage.step_states("build") == ["running", "success"]
    assert [str(r.status) for r in stage.reports] == ["running", "success"]
    assert_each_line_once(stage)
    assert_coalesced(stage)


async def test_a_stopped_server_gets_every_report_once_it_is_restarted(standin: StandIn) -> None:
    stage = standin.add(plan_of(one_step()))
    await run_through_outage(standin, stage, standin.stop, standin.start)
    assert stage.final is not None and stage.final.status == Status.SUCCESS
    assert stage.step_states("build") == ["running", "success"]
    assert_each_line_once(stage)
    assert_coalesced(stage)


async def test_a_batch_retried_after_a_lost_answer_stores_no_line_twice(standin: StandIn) -> None:
    stage = standin.add(plan_of(one_step()))
    standin.lose_answers = 1  # the first batch is stored, but the runner never hears so
    engine = GatedEngine({"build": Behaviour(output=output())})
    async with running_daemon(standin, engine):
        await standin.wait_for(lambda: stage.final is not None)
    number = stage.plan.steps[0].number
    assert stage.lines(number) == [f"line {i}" for i in range(LINES)]
    first, retried = [b for b in stage.batches if b.step == number][:2]
    assert retried.first == 0 and len(retried.lines) >= len(first.lines)  # sent again, in full


async def test_lines_the_server_did_not_keep_are_sent_again_from_where_it_says(standin: StandIn) -> None:
    standin.max_batch_lines = 100
    stage = standin.add(plan_of(one_step()))
    async with running_daemon(standin, GatedEngine({"build": Behaviour(output=output())})):
        await standin.wait_for(lambda: stage.final is not None)
    number = stage.plan.steps[0].number
    assert stage.lines(number) == [f"line {i}" for i in range(LINES)]
    assert [b.first for b in stage.batches if b.step == number][:3] == [0, 100, 200]


async def test_batches_shrink_when_the_server_refuses_them_as_too_large(standin: StandIn) -> None:
    standin.max_body = 300_000
    stage = standin.add(plan_of(one_step()))
    text = "".join(f"{i:06d} {'x' * 200}\n" for i in range(4000)).encode()
    chunks = [text[i : i + 65536] for i in range(0, len(text), 65536)]
    engine = GatedEngine({"build": Behaviour(output=chunks)}, gated=["build"])
    async with running_daemon(standin, engine):
        await standin.wait_for(lambda: stage.step_states("build") == ["running"])
        standin.unavailable = True  # the lines pile up into big batches meanwhile
        engine.gates["build"].set()
        await standin.wait_for(lambda: engine.destroyed)
        standin.unavailable = False
        await standin.wait_for(lambda: stage.final is not None)
    assert [r for r in standin.received if r.status == 413]
    assert stage.lines(stage.plan.steps[0].number) == [f"{i:06d} {'x' * 200}" for i in range(4000)]


async def test_output_waits_while_too_much_is_unsent(standin: StandIn) -> None:
    stage = standin.add(plan_of(one_step()))
    stage.state, stage.runner = "running", RUNNER
    standin.unavailable = True
    step = StepReport(number=1, name="build", status=Status.RUNNING)
    async with RunnerClient(standin.url, TOKEN, RUNNER) as client:
        reporter = RemoteReporter(client, stage.stage_id, max_unsent=10_000)
        try:
            await reporter.step_output(step, [LogLine(i, 0.0, "x" * 90) for i in range(50)])
            more = asyncio.create_task(
                reporter.step_output(step, [LogLine(i, 0.0, "y" * 90) for i in range(50, 150)])
            )
            await standin.wait_for(lambda: len([r for r in standin.received if r.status == 503]) >= 3)
            assert not more.done()  # over the bound: the executor's pump is held back
            standin.unavailable = False
            await asyncio.wait_for(more, 30)
            assert await reporter.flush(30)
        finally:
            await reporter.close()
    assert stage.lines(1) == ["x" * 90] * 50 + ["y" * 90] * 100
    assert reporter.unsent == 0


async def test_a_state_queued_behind_an_unsent_one_of_the_same_step_replaces_it(standin: StandIn) -> None:
    stage = standin.add(plan_of(one_step()))
    stage.state, stage.runner = "running", RUNNER
    standin.unavailable = True
    async with RunnerClient(standin.url, TOKEN, RUNNER) as client:
        reporter = RemoteReporter(client, stage.stage_id)
        try:
            step = StepReport(number=1, name="build", status=Status.PENDING)
            await reporter.step_updated(step)  # the head: being sent (and refused) while the others queue
            await standin.wait_for(lambda: any(r.status == 503 for r in standin.received))
            for status in (Status.RUNNING, Status.SUCCESS):
                await reporter.step_updated(step.model_copy(update={"status": status}))
            await reporter.step_output(step, [LogLine(0, 0.0, "after")])
            await reporter.step_updated(step.model_copy(update={"status": Status.FAILURE}))
            standin.unavailable = False
            assert await reporter.flush(30)
        finally:
            await reporter.close()
    assert stage.step_states("build") == ["pending", "success", "failure"], "running was replaced, not sent"
    assert stage.lines(1) == ["after"]


@pytest.mark.parametrize("batches", [True, False])
async def test_reports_go_together_and_one_at_a_time_to_a_server_without_batches(
    standin: StandIn, batches: bool
) -> None:
    standin.batches = batches
    stage = standin.add(plan_of(one_step()))
    async with running_daemon(standin, GatedEngine({"build": Behaviour(output=output(300))})):
        await standin.wait_for(lambda: stage.final is not None)
    assert stage.lines(stage.plan.steps[0].number) == [f"line {i}" for i in range(300)]
    assert stage.step_states("build") == ["running", "success"]
    together = [r for r in standin.received if r.path.endswith("/reports") and r.status == 200]
    assert bool(together) == batches
