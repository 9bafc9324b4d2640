"""RemoteReporter's timing: what goes to the server together, and how long a report may wait for company."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from pipelines.report import LogLine, StageReport, StepReport
from pipelines.runner_api import BatchAck, LogAck, ReportBatch, ReportItem
from pipelines.status import Status
from runner.client import RunnerClient
from runner.remote import LINGER_SECONDS, RemoteReporter

RUNNING = StageReport(number=1, name="default", status=Status.RUNNING, started=1.0)
STEP = StepReport(number=1, name="build", status=Status.RUNNING, started=1.0)
LIVENESS = LINGER_SECONDS + 10
"""Seconds a test waits for what must come within the linger (a loaded machine may be slow)."""


class RecordingServer:
    """Stands in for the RunnerClient: takes every batch whole and keeps it; may say "cancelled"."""

    def __init__(self, *, cancel: bool = False) -> None:
        self.batches: list[list[ReportItem]] = []
        self.cancel = cancel
        self.arrived = asyncio.Event()

    async def reports(self, stage_id: int, batch: ReportBatch, lease: str = "") -> BatchAck:
        """Keep the batch; a LogAck for each log item."""
        self.batches.append(batch.items)
        self.arrived.set()
        acks = [LogAck(next=i.logs.first + len(i.logs.lines)) if i.logs else None for i in batch.items]
        return BatchAck(acks=acks, cancel=self.cancel)

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"only /reports is expected, not {name}")


def reporter_of(server: RecordingServer, **options: Any) -> RemoteReporter:
    return RemoteReporter(cast(RunnerClient, server), 1, **options)


def kinds(items: list[ReportItem]) -> list[str]:
    """Each item as what it is and its state ('stage running', 'logs 0-2', ...)."""
    named = []
    for item in items:
        if item.stage is not None:
            named.append(f"stage {item.stage.status}")
        elif item.step is not None:
            named.append(f"step {item.step.status}")
        elif item.logs is not None:
            named.append(f"logs {item.logs.first}-{item.logs.first + len(item.logs.lines) - 1}")
    return named


def lines(first: int, count: int) -> list[LogLine]:
    return [LogLine(first + i, 0.0, f"line {first + i}") for i in range(count)]


async def test_a_fast_stage_goes_in_one_request_in_order() -> None:
    server = RecordingServer()
    reporter = reporter_of(server)
    try:
        await reporter.stage_updated(RUNNING)
        await asyncio.sleep(0.01)
        await reporter.step_updated(STEP)
        await reporter.step_output(STEP, lines(0, 2))
        await asyncio.sleep(0.01)
        await reporter.step_output(STEP, lines(2, 1))
        await reporter.step_updated(STEP.model_copy(update={"status": Status.SUCCESS}))
        assert await reporter.finish(RUNNING.model_copy(update={"status": Status.SUCCESS}), 30)
    finally:
        await reporter.close()
    assert [kinds(batch) for batch in server.batches] == [
        ["stage running", "step running", "logs 0-2", "step success", "stage success"]
    ]


async def test_the_stages_running_state_alone_waits_for_the_first_steps_report() -> None:
    server = RecordingServer()
    reporter = reporter_of(server, linger=0.01)
    try:
        await reporter.stage_updated(RUNNING)
        await asyncio.sleep(0.3)  # many lingers: the take told the server already, nothing to say yet
        assert server.batches == []
        await reporter.step_updated(STEP)
        async with asyncio.timeout(LIVENESS):
            await server.arrived.wait()
    finally:
        await reporter.close()
    assert [kinds(batch) for batch in server.batches] == [["stage running", "step running"]]


async def test_a_silent_steps_running_state_reaches_the_server_while_it_runs() -> None:
    server = RecordingServer()
    reporter = reporter_of(server)
    try:
        await reporter.stage_updated(RUNNING)
        await reporter.step_updated(STEP)
        await reporter.step_output(STEP, lines(0, 1))
        async with asyncio.timeout(LIVENESS):  # the step never ends: only the linger lets it go
            await server.arrived.wait()
    finally:
        await reporter.close()
    assert [kinds(batch) for batch in server.batches] == [["stage running", "step running", "logs 0-0"]]


async def test_a_whole_batch_leaves_at_once_however_long_the_linger() -> None:
    server = RecordingServer()
    reporter = reporter_of(server, linger=3600.0, stage_start=3600.0, max_batch_lines=10)
    try:
        await reporter.step_updated(STEP)
        await reporter.step_output(STEP, lines(0, 10))
        async with asyncio.timeout(LIVENESS):
            await server.arrived.wait()
    finally:
        await reporter.close()
    assert kinds(server.batches[0]) == ["step running", "logs 0-9"]


async def test_an_answer_saying_the_stage_was_cancelled_is_heard() -> None:
    server = RecordingServer(cancel=True)
    reporter = reporter_of(server)
    try:
        await reporter.step_updated(STEP)
        async with asyncio.timeout(LIVENESS):
            await reporter.cancelled.wait()
    finally:
        await reporter.close()
    assert not reporter.lost.is_set()
