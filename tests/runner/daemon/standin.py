"""A stand-in Hangar server speaking the runner API: minimal, honest, and recording everything it receives.

It keeps a log the way the real server does (a line is stored once, by position; a batch past the end is
refused) and can be told to fail: answer 503, refuse accepts or leases, lose answers, cut batches, or only
offer (as an older server does).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipelines.plan import Plan
from pipelines.report import StageReport, StepReport
from pipelines.runner_api import (
    RUNNER_HEADER,
    AcceptRequest,
    Assignment,
    BatchAck,
    Credentials,
    LeaseReply,
    LogAck,
    LogBatch,
    ReportBatch,
    RunnerInfo,
    StageOffer,
    TakenStage,
)

TOKEN = "runner-token"


@dataclass
class Received:
    """One request as it arrived, answered or not."""

    method: str
    path: str
    body: bytes
    runner: str
    status: int = 0


@dataclass
class StandInStage:
    """A stage the stand-in offers, and everything the runner said about it."""

    stage_id: int
    plan: Plan
    secrets: dict[str, str] = field(default_factory=dict)
    credentials: Credentials | None = None
    lease_seconds: float = 60.0
    timeout_minutes: float = 5.0
    version: int = 1
    state: str = "pending"  # pending → running → done
    runner: str = ""
    lease: str = ""
    cancelled: bool = False
    accepts: int = 0
    renewals: int = 0
    steps: list[StepReport] = field(default_factory=list)
    reports: list[StageReport] = field(default_factory=list)
    batches: list[LogBatch] = field(default_factory=list)
    logs: dict[int, list[tuple[float, str]]] = field(default_factory=dict)

    def lines(self, step: int) -> list[str]:
        """The stored text of a step's log, in order."""
        return [text for _, text in self.logs.get(step, [])]

    def step_states(self, name: str) -> list[str]:
        """The states reported for a step, in order."""
        return [str(report.status) for report in self.steps if report.name == name]

    @property
    def final(self) -> StageReport | None:
        """The last stage report, if it is a finished one."""
        return self.reports[-1] if self.reports and self.reports[-1].status.is_done else None


class StandIn:
    """The runner API on 127.0.0.1 (ephemeral port, kept across a stop and a start)."""

    def __init__(self, *, token: str = TOKEN, poll: float = 0.5) -> None:
        self.token, self.poll = token, poll
        self.stages: dict[int, StandInStage] = {}
        self.received: list[Received] = []
        self.infos: list[RunnerInfo] = []
        self.unavailable = False
        """Answer 503 to everything."""
        self.batches = True
        """Take several reports in one request (`/reports`); off: answer it 404, as an older server does."""
        self.report_cancels = True
        """Say in a report's answer that the stage was cancelled; off: never, as an older server."""
        self.takes = True
        """Offer and accept in one request when the runner asks so (`take_lease`); off: offer only, as an
        older server does."""
        self.lose_takes = 0
        """Take that many stages in a request, then answer 503 as if the answer were lost on the way."""
        self.refuse_accepts = 0
        """Answer 409 to that many accepts (as if another runner took the stage: it is offered again)."""
        self.lose_answers = 0
        """Store that many log batches, then answer 503 as if the answer were lost on the way."""
        self.max_body: int | None = None
        """Answer 413 to bodies over that many bytes, as a proxy with a body limit does."""
        self.refuse_leases: set[int] = set()
        """Answer 409 to lease renewals of these stages (and to nothing else)."""
        self.max_batch_lines: int | None = None
        """Keep only that many lines of each batch (the LogAck says where to resume)."""
        self.port = 0
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._pulse = asyncio.Event()
        self._closing = False
        routes = [
            Route("/api/runner/stages/request", self._request, methods=["POST"]),
            Route("/api/runner/stages/{stage_id:int}/accept", self._accept, methods=["POST"]),
            Route("/api/runner/stages/{stage_id:int}/lease", self._lease, methods=["POST"]),
            Route("/api/runner/stages/{stage_id:int}/watch", self._watch, methods=["GET"]),
            Route("/api/runner/stages/{stage_id:int}/steps", self._step, methods=["POST"]),
            Route("/api/runner/stages/{stage_id:int}/logs", self._logs, methods=["POST"]),
            Route("/api/runner/stages/{stage_id:int}/reports", self._reports, methods=["POST"]),
            Route("/api/runner/stages/{stage_id:int}", self._stage, methods=["POST"]),
        ]
        self.app = Starlette(routes=routes)

    @property
    def url(self) -> str:
        """The server address a runner is given."""
        return f"http://127.0.0.1:{self.port}"

    # -- control ------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Serve (again, on the same port after a stop)."""
        config = uvicorn.Config(
            self.app,
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = _QuietServer(config)
        self._closing = False
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the stand-in server did not start")
            await asyncio.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop serving: connections are refused until `start`."""
        if self._server is None or self._task is None:
            return
        self._closing = True
        self._touch()
        self._server.should_exit = True
        await self._task
        self._server = self._task = None

    def add(self, plan: Plan, **assignment: Any) -> StandInStage:
        """Offer a stage running this Plan."""
        stage = StandInStage(stage_id=len(self.stages) + 1, plan=plan, **assignment)
        self.stages[stage.stage_id] = stage
        self._touch()
        return stage

    def cancel(self, stage: StandInStage) -> None:
        """Cancel the stage (the runner hears it through watch and lease)."""
        stage.cancelled = True
        self._touch()

    async def wait_for(self, condition: Callable[[], object], timeout: float = 60.0) -> None:
        """Wait until condition() is true; fail the test after timeout seconds."""
        async with asyncio.timeout(timeout):
            while not condition():
                pulse = self._pulse
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(pulse.wait(), 0.2)

    def _touch(self) -> None:
        self._pulse.set()
        self._pulse = asyncio.Event()

    # -- the runner API -----------------------------------------------------------------------------

    async def _request(self, request: Request) -> Response:
        received, _, refusal = await self._check(request)
        if refusal is not None:
            return refusal
        info = RunnerInfo.model_validate_json(received.body)
        self.infos.append(info)
        take = info.take_lease if self.takes else ""
        if take and info.retry:
            held = [s for s in self.stages.values() if s.state == "running" and s.lease == take]
            if held and held[0].runner == received.runner:
                return self._reply(received, 200, self._taken(held[0]))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.poll
        while not self._closing:
            stage = next((s for s in self.stages.values() if s.state == "pending"), None)
            if stage is not None and not take:
                offer = StageOffer(
                    stage_id=stage.stage_id, version=stage.version, repo="octo/hello", build=1, name="default"
                )
                return self._reply(received, 200, offer)
            if stage is not None:
                stage.accepts += 1
                if self._accepted(stage, AcceptRequest(version=stage.version, lease=take), received.runner):
                    if self.lose_takes:
                        self.lose_takes -= 1
                        return self._reply(received, 503)
                    return self._reply(received, 200, self._taken(stage))
                continue
            if loop.time() >= deadline:
                break
            pulse = self._pulse
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(pulse.wait(), deadline - loop.time())
        return self._reply(received, 204)

    async def _accept(self, request: Request) -> Response:
        received, stage, refusal = await self._check(request)
        if refusal is not None:
            return refusal
        assert stage is not None
        stage.accepts += 1
        if not self._accepted(stage, AcceptRequest.model_validate_json(received.body), received.runner):
            return self._reply(received, 409)
        return self._reply(received, 200, self._assignment(stage))

    def _accepted(self, stage: StandInStage, accept: AcceptRequest, runner: str) -> bool:
        """Give the stage to the runner (True), or refuse (the stage is gone, or refusals were asked for)."""
        again = stage.state == "running" and stage.runner == runner and stage.lease == accept.lease
        if not again and (stage.state != "pending" or accept.version != stage.version):
            return False
        if self.refuse_accepts:
            self.refuse_accepts -= 1
            stage.version += 1
            return False
        stage.state, stage.runner, stage.lease = "running", runner, accept.lease
        return True

    def _assignment(self, stage: StandInStage) -> Assignment:
        return Assignment(
            stage_id=stage.stage_id,
            lease=stage.lease,
            plan=stage.plan,
            secrets=stage.secrets,
            credentials=stage.credentials,
            lease_seconds=stage.lease_seconds,
            timeout_minutes=stage.timeout_minutes,
        )

    def _taken(self, stage: StandInStage) -> TakenStage:
        offer = StageOffer(
            stage_id=stage.stage_id, version=stage.version, repo="octo/hello", build=1, name="default"
        )
        return TakenStage(offer=offer, assignment=self._assignment(stage))

    async def _lease(self, request: Request) -> Response:
        received, stage, refusal = await self._check(request, held=True)
        if refusal is not None:
            return refusal
        assert stage is not None
        stage.renewals += 1
        if stage.stage_id in self.refuse_leases:
            return self._reply(received, 409)
        reply = LeaseReply(cancel=stage.cancelled, lease_seconds=stage.lease_seconds)
        return self._reply(received, 200, reply)

    async def _watch(self, request: Request) -> Response:
        received, stage, refusal = await self._check(request)
        if refusal is not None:
            return refusal
        assert stage is not None
        if stage.state != "running" or stage.runner != received.runner:  # as the real server: "stop it"
            return self._reply(received, 200, LeaseReply(cancel=True))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.poll
        while not stage.cancelled and not self._closing and loop.time() < deadline:
            pulse = self._pulse
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(pulse.wait(), deadline - loop.time())
        if stage.cancelled:
            return self._reply(received, 200, LeaseReply(cancel=True))
        return self._reply(received, 204)

    async def _step(self, request: Request) -> Response:
        received, stage, refusal = await self._check(request, held=True)
        if refusal is not None:
            return refusal
        assert stage is not None
        stage.steps.append(StepReport.model_validate_json(received.body))
        return self._reply(received, 204)

    async def _logs(self, request: Request) -> Response:
        received, stage, refusal = await self._check(request, held=True)
        if refusal is not None:
            return refusal
        assert stage is not None
        ack = self._store_logs(stage, LogBatch.model_validate_json(received.body))
        if self.lose_answers:
            self.lose_answers -= 1
            return self._reply(received, 503)
        return self._reply(received, 200, ack)

    def _store_logs(self, stage: StandInStage, batch: LogBatch) -> LogAck:
        stage.batches.append(batch)
        stored = stage.logs.setdefault(batch.step, [])
        lines = batch.lines[: self.max_batch_lines] if self.max_batch_lines else batch.lines
        if batch.first <= len(stored):  # a batch past the end would leave a gap: nothing is stored
            stored.extend(lines[len(stored) - batch.first :])
        return LogAck(next=len(stored))

    async def _stage(self, request: Request) -> Response:
        received, stage, refusal = await self._check(request, held=True)
        if refusal is not None:
            return refusal
        assert stage is not None
        self._store_stage(stage, StageReport.model_validate_json(received.body))
        return self._reply(received, 204)

    def _store_stage(self, stage: StandInStage, report: StageReport) -> None:
        stage.reports.append(report)
        if report.status.is_done:
            stage.state = "done"

    async def _reports(self, request: Request) -> Response:
        """Several reports at once (when `batches` is on; else 404, as an older server answers)."""
        if not self.batches:
            return Response(status_code=404)
        received, stage, refusal = await self._check(request, held=True)
        if refusal is not None:
            return refusal
        assert stage is not None
        acks: list[LogAck | None] = []
        for item in ReportBatch.model_validate_json(received.body).items:
            if item.logs is not None:
                ack = self._store_logs(stage, item.logs)
                acks.append(ack)
                if ack.next < item.logs.first + len(item.logs.lines):
                    break  # as the server does: the rest waits for the missing lines
                continue
            if item.step is not None:
                stage.steps.append(item.step)
            elif item.stage is not None:
                self._store_stage(stage, item.stage)
            acks.append(None)
        if self.lose_answers and any(item is not None for item in acks):
            self.lose_answers -= 1
            return self._reply(received, 503)
        cancel = self.report_cancels and stage.cancelled and stage.state == "running"
        return self._reply(received, 200, BatchAck(acks=acks, cancel=cancel))

    async def _check(
        self, request: Request, *, held: bool = False
    ) -> tuple[Received, StandInStage | None, Response | None]:
        """Record the request; the refusal it gets, if any (503, 401, 413, 404, 409 if `held` by another)."""
        received = Received(
            request.method, request.url.path, await request.body(), request.headers.get(RUNNER_HEADER, "")
        )
        self.received.append(received)
        stage_id = request.path_params.get("stage_id")
        stage = self.stages.get(stage_id) if stage_id is not None else None
        if self.unavailable:
            return received, stage, self._reply(received, 503)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return received, stage, self._reply(received, 401)
        if self.max_body is not None and len(received.body) > self.max_body:
            return received, stage, self._reply(received, 413)
        if stage_id is not None and stage is None:
            return received, stage, self._reply(received, 404)
        if held and stage is not None and (stage.state != "running" or stage.runner != received.runner):
            return received, stage, self._reply(received, 409)
        return received, stage, None

    def _reply(self, received: Received, status: int, body: BaseModel | None = None) -> Response:
        received.status = status
        self._touch()
        if body is None:
            return Response(status_code=status)
        return Response(body.model_dump_json(), status_code=status, media_type="application/json")


class _QuietServer(uvicorn.Server):
    """Leaves the signal handlers of the test process alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
