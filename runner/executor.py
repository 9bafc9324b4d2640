"""The executor: one stage's Plan run on an Engine with Drone's semantics, and always torn down.

Steps run as a DAG (a file without `depends_on` compiles to a serial chain); services and detached steps
count as done once started. A failure makes ordinary steps `skipped` and `when: status: failure` steps
run; `failure: ignore` keeps the stage green; exit code 78 ends the stage early with success. Cancel and
timeout stop running steps (`killed`) and skip pending ones. Every line is masked before it leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import BinaryIO

from pipelines.plan import Plan, StepKind, StepPlan
from pipelines.report import StageReport, StepReport
from pipelines.status import Status
from runner.dag import dependencies_done, should_run
from runner.engine import Engine, EngineError, Exit, RegistryAuth, StageSpec, quietly
from runner.environment import step_environment
from runner.prepare import Preparer
from runner.registry_auth import parse_docker_config
from runner.reporter import Reporter
from runner.step_logs import StepLogs

LogWriter = Callable[[str], Awaitable[None]]
WorkspaceSource = Callable[[LogWriter], Awaitable[BinaryIO]]
"""Fills the workspace: given the clone step's log, returns a tar archive of the files to put there."""

SKIP_REMAINING_EXIT_CODE = 78
ERROR_EXIT_CODE = 255
_TEARDOWN_WAIT = 30.0


@dataclass(frozen=True)
class StageOptions:
    """How to run a stage: secret values, labels for what gets created, timeout, stop grace, pre-creation."""

    secrets: Mapping[str, str] = field(default_factory=dict)
    labels: Mapping[str, str] = field(default_factory=dict)
    timeout: float | None = None
    grace: float = 10.0
    lookahead: int = 2
    max_parallel: int = 0
    stage_id: str = ""
    patience: float = 30.0
    """Seconds past the grace period to wait for stopped steps to end before giving up on them."""


async def run_stage(
    engine: Engine,
    reporter: Reporter,
    plan: Plan,
    *,
    workspace: WorkspaceSource | None = None,
    options: StageOptions | None = None,
    cancel: asyncio.Event | None = None,
) -> StageReport:
    """Run the stage to its end and return its final report; all it created is removed before returning."""
    return await _StageRun(engine, reporter, plan, workspace, options or StageOptions(), cancel).run()


class _StageRun:
    """The state of one stage while it runs."""

    def __init__(
        self,
        engine: Engine,
        reporter: Reporter,
        plan: Plan,
        workspace: WorkspaceSource | None,
        options: StageOptions,
        cancel: asyncio.Event | None,
    ) -> None:
        self.engine, self.reporter, self.plan, self.options = engine, reporter, plan, options
        self.workspace, self.cancel = workspace, cancel
        self.report = StageReport(
            number=plan.stage.number,
            name=plan.stage.name,
            steps=[StepReport(number=s.number, name=s.name, detached=s.detach) for s in plan.steps],
        )
        self.logs = StepLogs(reporter, options.secrets.values())
        self.reports = {report.name: report for report in self.report.steps}
        self.spec = StageSpec(
            id=options.stage_id or uuid.uuid4().hex[:12], plan=plan, labels=dict(options.labels)
        )
        self.failed: list[str] = []
        self.skip_all = False
        self.aborted = False
        self.tearing_down = False
        self.changed = asyncio.Event()
        self.unfinished: set[str] = set()
        self.running: dict[str, str] = {}
        self.stopping: set[str] = set()
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.background: list[asyncio.Task[None]] = []
        self.preparer = Preparer(engine, self.spec, self._environment, options.lookahead)  # replaced in run()

    async def run(self) -> StageReport:
        self.report.status, self.report.started = Status.RUNNING, time.time()
        await self.reporter.stage_updated(self.report)
        watcher: asyncio.Task[None] | None = None
        try:
            self.spec = StageSpec(self.spec.id, self.plan, self.spec.labels, self._registry_auth())
            self.preparer = Preparer(self.engine, self.spec, self._environment, self.options.lookahead)
            if self.plan.stage.platform.os not in ("", "linux"):
                raise EngineError(f"this runner runs linux pipelines, not {self.plan.stage.platform.os!r}")
            await self.engine.setup(self.spec)
            containers = [s for s in self.plan.steps if s.kind != StepKind.CLONE]
            self.preparer.start(containers, self._worth_preparing)
            if self.workspace is not None and len(containers) == len(self.plan.steps):
                await self._fill_workspace(_discard)  # no clone step: fill it while containers are prepared
            watcher = asyncio.create_task(self._watch())
            await self._schedule()
        except EngineError as exc:
            self.report.status, self.report.error = Status.ERROR, str(exc)
        except asyncio.CancelledError:
            await asyncio.shield(self._abort("cancelled", grace=0))
            raise
        finally:
            if watcher is not None:
                watcher.cancel()
            await asyncio.shield(self._teardown())
        return self.report

    # -- scheduling ---------------------------------------------------------------------------------

    async def _schedule(self) -> None:
        """Start every step whose dependencies are done, until none is left."""
        pending = list(self.plan.steps)
        while True:
            started = False
            for step in list(pending):
                if self.aborted:
                    break
                if not dependencies_done(step, self.reports):
                    continue
                if self.options.max_parallel and len(self.unfinished) >= self.options.max_parallel:
                    break
                pending.remove(step)
                if self._should_run(step):
                    self.unfinished.add(step.name)
                    self.tasks[step.name] = asyncio.create_task(self._run_step(step))
                    started = True
                else:
                    await self._skip(step)
                    started = True
            if self.aborted or not (pending or self.unfinished):
                break
            if not started and not self.unfinished:
                break
            if not started:
                await self.changed.wait()
                self.changed.clear()
        while self.unfinished:
            patience = self.options.grace + self.options.patience if self.aborted else None
            try:
                await asyncio.wait_for(self.changed.wait(), patience)
            except TimeoutError:  # the engine never confirmed the stop: give up on those steps
                for name in self.unfinished:
                    self.tasks[name].cancel()
                break
            self.changed.clear()
        for step in pending:
            await self._skip(step)

    def _should_run(self, step: StepPlan) -> bool:
        return should_run(step, self.failed, skip_all=self.skip_all)

    def _worth_preparing(self, step: StepPlan) -> bool:
        return not self.aborted and self._should_run(step)

    async def _skip(self, step: StepPlan) -> None:
        self.preparer.discard(step)
        report = self.report.step(step.name)
        if report.status == Status.PENDING:
            report.status = Status.SKIPPED
            await self.reporter.step_updated(report)

    # -- one step -----------------------------------------------------------------------------------

    async def _run_step(self, step: StepPlan) -> None:
        report = self.report.step(step.name)
        try:
            if step.kind == StepKind.CLONE:
                await self._clone(report)
            else:
                await self._run_container(step, report)
        except Exception as exc:  # an engine fault must end the step, never the stage's bookkeeping
            await self._end_with_error(step, report, f"internal error: {exc!r}")
        finally:
            self.unfinished.discard(step.name)
            self.changed.set()

    async def _run_container(self, step: StepPlan, report: StepReport) -> None:
        try:
            handle = await self.preparer.take(step)
        except EngineError as exc:
            await self._end_with_error(step, report, str(exc))
            return
        if self.aborted:
            report.status = Status.SKIPPED
            await self.reporter.step_updated(report)
            return
        report.status, report.started = Status.RUNNING, time.time()
        await self.reporter.step_updated(report)
        try:
            await self.engine.start(handle)
        except EngineError as exc:
            await self._end_with_error(step, report, str(exc))
            return
        self.running[step.name] = handle
        if self.aborted:
            await self._stop(step.name, self.options.grace)
        pump = asyncio.create_task(self.logs.pump(report, self.engine.output(handle)))
        if step.detach:
            self.unfinished.discard(step.name)
            self.changed.set()
        error = ""
        try:
            exit_state: Exit | None = await self.engine.wait(handle)
        except EngineError as exc:
            exit_state, error = None, str(exc)
        await pump
        self.running.pop(step.name, None)
        await self._finish(step, report, exit_state, error)
        if not step.detach:
            self.background.append(asyncio.create_task(quietly(self.engine.remove(handle))))

    async def _finish(self, step: StepPlan, report: StepReport, exit_state: Exit | None, error: str) -> None:
        report.finished = time.time()
        if exit_state is None:
            report.status, report.exit_code, report.error = Status.ERROR, ERROR_EXIT_CODE, error
        elif step.detach and self.tearing_down:
            report.status, report.exit_code = Status.SUCCESS, 0
        elif exit_state.code != 0 and step.name in self.stopping:
            report.status, report.exit_code = Status.KILLED, exit_state.code
        else:
            report.exit_code = exit_state.code
            report.status = (
                Status.SUCCESS if exit_state.code in (0, SKIP_REMAINING_EXIT_CODE) else Status.FAILURE
            )
            if exit_state.oom_killed:
                report.error = "out of memory: the container was killed by the kernel"
            if exit_state.code == SKIP_REMAINING_EXIT_CODE and not step.detach:
                self.skip_all = True
        await self._count(step, report)
        await self.reporter.step_updated(report)

    async def _count(self, step: StepPlan, report: StepReport) -> None:
        """Record a failed step against the stage, unless it may fail; `failure: fast` stops its siblings."""
        if not report.status.is_failed or step.detach or step.failure == "ignore":
            return
        self.failed.append(step.name)
        if step.failure == "fast" and not self.aborted:
            others = [name for name in self.running if name != step.name and not self._is_detached(name)]
            await asyncio.gather(*(self._stop(name, self.options.grace) for name in others))

    async def _end_with_error(self, step: StepPlan, report: StepReport, message: str) -> None:
        now = time.time()
        report.started = report.started or now
        await self.logs.write(report, [message])
        report.status, report.exit_code, report.error, report.finished = (
            Status.ERROR,
            ERROR_EXIT_CODE,
            message,
            now,
        )
        await self._count(step, report)
        await self.reporter.step_updated(report)

    async def _clone(self, report: StepReport) -> None:
        report.status, report.started = Status.RUNNING, time.time()
        await self.reporter.step_updated(report)
        try:
            await self._fill_workspace(lambda text: self.logs.write(report, [text]))
        except Exception as exc:
            message = str(exc) or type(exc).__name__
            await self.logs.write(report, [message])
            report.status, report.exit_code, report.error = Status.FAILURE, 1, message
            self.failed.append(report.name)
        else:
            report.status, report.exit_code = Status.SUCCESS, 0
        report.finished = time.time()
        await self.reporter.step_updated(report)

    async def _fill_workspace(self, log: LogWriter) -> None:
        if self.workspace is None:
            return
        archive = await self.workspace(log)
        try:
            await self.engine.fill_workspace(self.spec, archive)
        finally:
            archive.close()

    # -- cancel, timeout, teardown ------------------------------------------------------------------

    async def _watch(self) -> None:
        """Abort the stage when it is cancelled or runs out of time."""
        reason = "cancelled"
        try:
            async with asyncio.timeout(self.options.timeout):
                if self.cancel is not None:
                    await self.cancel.wait()
                else:
                    await asyncio.Event().wait()
        except TimeoutError:
            reason = f"timed out after {_duration(self.options.timeout or 0)}"
        await self._abort(reason, grace=self.options.grace)

    async def _abort(self, reason: str, *, grace: float) -> None:
        if self.aborted:
            return
        self.aborted = True
        self.report.error = reason
        self.changed.set()
        for step in self.plan.steps:
            task = self.tasks.get(step.name)
            if step.kind == StepKind.CLONE and task is not None:
                task.cancel()  # the clone runs in-process: nothing to stop but the task
        await asyncio.gather(*(self._stop(name, grace) for name in list(self.running)))

    async def _stop(self, name: str, grace: float) -> None:
        handle = self.running.get(name)
        if handle is None or name in self.stopping:
            return
        self.stopping.add(name)
        with contextlib.suppress(EngineError):
            await self.engine.stop(handle, grace)

    async def _teardown(self) -> None:
        """Stop what still runs, record the outcome, remove everything the stage created."""
        self.tearing_down = True
        await self.preparer.close()
        detached = [name for name in self.running if self._is_detached(name)]
        await asyncio.gather(*(self._stop_detached(name) for name in detached))
        tasks = list(self.tasks.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=_TEARDOWN_WAIT)
            for task in late:
                task.cancel()
        await asyncio.gather(*self.background, return_exceptions=True)
        try:
            await self.engine.destroy(self.spec)
        except EngineError as exc:  # left for the next start-up's sweep, and said in the stage's error
            self.report.error = "; ".join(filter(None, [self.report.error, str(exc)]))
        for report in self.report.steps:
            if report.status in (Status.PENDING, Status.RUNNING):
                if report.status == Status.RUNNING:  # its task was given up on: no exit code ever came
                    report.error = "the engine never reported how the step ended"
                    report.finished = time.time()
                report.status = Status.SKIPPED if report.status == Status.PENDING else Status.ERROR
                await self.reporter.step_updated(report)
        self.report.finished = time.time()
        self.report.status = self._stage_status()
        await self.reporter.stage_updated(self.report)

    async def _stop_detached(self, name: str) -> None:
        handle = self.running.get(name)
        if handle is not None:
            with contextlib.suppress(EngineError):
                await self.engine.stop(handle, 0)

    def _stage_status(self) -> Status:
        if self.report.status == Status.ERROR:
            return Status.ERROR
        if self.aborted:
            return Status.KILLED
        statuses = {self.report.step(name).status for name in self.failed}
        if Status.ERROR in statuses:
            return Status.ERROR
        return Status.FAILURE if statuses else Status.SUCCESS

    # -- helpers ------------------------------------------------------------------------------------

    def _environment(self, step: StepPlan) -> dict[str, str]:
        return step_environment(step, self.options.secrets, self.failed)

    def _registry_auth(self) -> tuple[RegistryAuth, ...]:
        auths: list[RegistryAuth] = []
        for name in self.plan.image_pull_secrets:
            value = self.options.secrets.get(name)
            if value is None:
                continue
            try:
                auths.extend(parse_docker_config(value))
            except ValueError as exc:
                raise EngineError(f"image_pull_secrets: secret {name!r} is {exc}") from None
        return tuple(auths)

    def _is_detached(self, name: str) -> bool:
        step = self.plan.step(name)
        return step is not None and step.detach


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest}s" if minutes else f"{seconds:g}s"


async def _discard(text: str) -> None:
    """A log for work done before any step (the workspace of a pipeline without a clone step)."""
