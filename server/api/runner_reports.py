"""The runner's reports about an accepted stage: step states, log lines, the stage's state — one at a time,
or several in one request (`POST /stages/{id}/reports`), each applied the same way."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipelines.report import StageReport, StepReport
from pipelines.runner_api import BatchAck, LogAck, LogBatch, ReportBatch, TestBatch
from server.api.auth import held, runner_name
from server.api.common import int_param, model_response, read_model, services
from server.changes import Changes
from server.db.models import Stage
from server.keys import log_channel
from server.live_hints import published
from server.log_bodies import log_batch_with_text, report_batch_with_texts
from server.scheduler import report_stage, report_step
from server.store.builds import find_build_by_id, find_stage, find_step, update_stage
from server.store.logs import append_lines_json
from server.store.tests import store_tests


async def store_logs(
    session: AsyncSession, changes: Changes, stage: Stage, batch: LogBatch, text: str | None = None
) -> LogAck:
    """Store the lines the step does not have yet (`text`: their JSON as they came, if known); live viewers
    get them once the transaction commits."""
    step = await find_step(session, stage.id or 0, batch.step)
    if step is None:
        raise HTTPException(404, f"stage {stage.id} has no step {batch.step}")
    have = step.log_lines
    after, stored = await append_lines_json(session, step, batch.first, batch.lines, text)
    if stored:  # the lines' JSON as stored, not encoded again
        message = f'{{"first": {have}, "lines": {stored}, "stage": {stage.number}, "step": {batch.step}}}'
        published(message, have, batch.lines[have - batch.first : after - batch.first])
        changes.messages.append((log_channel(step.id), message))
    return LogAck(next=after)


async def store_test_batch(session: AsyncSession, stage: Stage, batch: TestBatch) -> LogAck:
    """Store a step's test results (idempotent by position, as log lines are)."""
    step = await find_step(session, stage.id or 0, batch.step)
    build = await find_build_by_id(session, stage.build_id)
    if step is None or build is None:
        raise HTTPException(404, f"stage {stage.id} has no step {batch.step}")
    return LogAck(next=await store_tests(session, build, step, batch))


async def ended_already(
    session: AsyncSession, changes: Changes, stage_id: int, runner: str, report: StageReport
) -> bool:
    """A final report for a stage this runner already ended: a retry whose answer was lost, or the
    teardown's own error said afterwards (kept). True when that is what it is."""
    if not report.status.is_done:  # only a final report can come after the end: no read for the others
        return False
    stage = await find_stage(session, stage_id)
    if stage is None or stage.runner != runner or stage.finished is None:
        return False
    if report.error and report.error != stage.error:
        stage.error = report.error
        await update_stage(session, stage)
        changes.stage(stage)
    return True


async def step_update(request: Request) -> Response:
    """A step's state."""
    runner, stage_id = await runner_name(request), int_param(request, "stage_id")
    report = await read_model(request, StepReport)
    async with services(request).transaction() as (session, changes):
        await report_step(session, changes, await held(session, stage_id, runner, request), report)
    return Response(status_code=204)


async def logs(request: Request) -> Response:
    """Store a batch of log lines (idempotent by position) and send them to live viewers."""
    runner, stage_id = await runner_name(request), int_param(request, "stage_id")
    read = log_batch_with_text(await request.body())
    batch, text = read if read is not None else (await read_model(request, LogBatch), None)
    async with services(request).transaction() as (session, changes):
        ack = await store_logs(session, changes, await held(session, stage_id, runner, request), batch, text)
    return model_response(ack)


async def tests(request: Request) -> Response:
    """Store a step's test results."""
    runner, stage_id = await runner_name(request), int_param(request, "stage_id")
    batch = await read_model(request, TestBatch)
    async with services(request).transaction() as (session, _changes):
        ack = await store_test_batch(session, await held(session, stage_id, runner, request), batch)
    return model_response(ack)


async def stage_update(request: Request) -> Response:
    """The stage's state; a finished one ends it and moves the build on."""
    runner, stage_id = await runner_name(request), int_param(request, "stage_id")
    report = await read_model(request, StageReport)
    async with services(request).transaction() as (session, changes):
        if not await ended_already(session, changes, stage_id, runner, report):
            await report_stage(session, changes, await held(session, stage_id, runner, request), report)
    return Response(status_code=204)


async def reports(request: Request) -> Response:
    """Several reports in order, in one transaction; the answer has a LogAck per log item, and says whether
    the stage was cancelled (read with the stage the reports need anyway: no query more)."""
    runner, stage_id = await runner_name(request), int_param(request, "stage_id")
    read = report_batch_with_texts(await request.body())
    batch, texts = read if read is not None else (await read_model(request, ReportBatch), None)
    acks: list[LogAck | None] = []
    async with services(request).transaction() as (session, changes):
        final = next((item.stage for item in reversed(batch.items) if item.stage is not None), None)
        if final is not None and await ended_already(session, changes, stage_id, runner, final):
            return _batch_answer(BatchAck(acks=await _stored(session, stage_id, batch)))
        stage: Stage | None = None
        for index, item in enumerate(batch.items):
            if item.stage is not None and await ended_already(session, changes, stage_id, runner, item.stage):
                acks.append(None)
                continue
            stage = stage if stage is not None and stage.finished is None else None
            stage = stage or await held(session, stage_id, runner, request)
            if item.logs is not None:
                ack = await store_logs(session, changes, stage, item.logs, texts[index] if texts else None)
                acks.append(ack)
                if ack.next < item.logs.first + len(item.logs.lines):
                    break  # not taken whole: what follows waits until the missing lines come
                continue
            if item.tests is not None:
                acks.append(await store_test_batch(session, stage, item.tests))
                continue
            if item.step is not None:
                await report_step(session, changes, stage, item.step)
            elif item.stage is not None:
                await report_stage(session, changes, stage, item.stage)
            acks.append(None)
        cancel = stage is not None and stage.finished is None and stage.cancel_requested
    return _batch_answer(BatchAck(acks=acks, cancel=cancel))


def _batch_answer(ack: BatchAck) -> Response:
    """The BatchAck without `cancel` unless it is true (the answer an older runner knows, field for field)."""
    return Response(ack.model_dump_json(exclude_defaults=True), media_type="application/json")


async def _stored(session: AsyncSession, stage_id: int, batch: ReportBatch) -> list[LogAck | None]:
    """The acks of a batch applied before (the stage ended with it): where each step's log stands."""
    acks: list[LogAck | None] = []
    for item in batch.items:
        step = await find_step(session, stage_id, item.logs.step) if item.logs is not None else None
        acks.append(LogAck(next=step.log_lines) if step is not None else None)
    return acks


routes = [
    Route("/stages/{stage_id}/steps", step_update, methods=["POST"]),
    Route("/stages/{stage_id}/logs", logs, methods=["POST"]),
    Route("/stages/{stage_id}/reports", reports, methods=["POST"]),
    Route("/stages/{stage_id}/tests", tests, methods=["POST"]),
    Route("/stages/{stage_id}", stage_update, methods=["POST"]),
]
