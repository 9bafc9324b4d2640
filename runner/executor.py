"""The executor: one stage's Plan run on an Engine with Drone's semantics, and always torn down.

Steps run as a DAG (a file without `depends_on` compiles to a serial chain); services and detached steps
count as done once started. A failure makes ordinary steps `skipped` and `when: status: failure` steps
run; `failure: ignore` keeps the stage green; exit code 78 ends the stage early with success. Cancel and
timeout stop running steps (`killed`) and skip pending ones. Every line and error is masked before it leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable

from pipelines.plan import Plan, RunPolicy, StepKind, StepPlan
from pipelines.report import StageReport, StepReport
from pipelines.status import Status
from runner.artifacts import ArtifactOptions, keep_artifacts
from runner.caches.stage import CacheSetup, StageCaches
from runner.engine import Engine, EngineError, Exit, RegistryAuth, StageSpec, quietly
from runner.environment import step_environment
from runner.prepare import Preparer
from runner.registry_auth import parse_docker_config
from runner.reporter import Reporter
from runner.rules import (
    ERROR_EXIT_CODE,
    SKIP_REMAINING_EXIT_CODE,
    dependencies_done,
    exit_outcome,
    should_run,
    stage_outcome,
)
from runner.step_logs import StepLogs
from runner.test_reports import collect, from_log

LogWriter = Callable[[str], Awaitable[None]]
WorkspaceSource = Callable[[LogWriter], Awaitable[BinaryIO]]
"""Fills the workspace: given the clone step's log, returns a tar archive of the files to put there."""


@runtime_checkable
class FillsFolders(Protocol):
    """A workspace source that can also put its files straight into a folder on this host."""

    async def into(self, folder: Path, log: LogWriter) -> None:
        """Put the files into the empty folder, given the clone step's log."""


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
    cache: CacheSetup | None = None
    """Restore caches before the first step and save them after a success (None: no caches)."""
    stage_id: str = ""
    patience: float = 30.0
    """Seconds past the grace period to wait for stopped steps to end before giving up on them."""
    artifacts: ArtifactOptions | None = None
    """Where the steps' `artifacts:` go (None: nowhere)."""
    removal: Callable[[Coroutine[Any, Any, None]], None] | None = None
    """Takes the removal of what the stage created (containers, network, volumes), to finish it after
    run_stage has returned the final report; a removal error is then added to that report and reported.
    None: run_stage removes everything before returning (a cancelled stage always does)."""


async def run_stage(
    engine: Engine,
    reporter: Reporter,
    plan: Plan,
    *,
    workspace: WorkspaceSource | None = None,
    options: StageOptions | None = None,
    cancel: asyncio.Event | None = None,
) -> StageReport:
    """Run the stage to its end and return its final report; all it created is removed before returning
    (or, with `options.removal`, handed over to finish afterwards).

    Cancelling the calling task kills the running steps at once (no grace) and still tears everything down
    before the cancellation goes on; `cancel` asks for the graceful stop.
    """
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
        self.reports = {report.name: report for report in self.report.steps}
        self.logs = StepLogs(reporter, options.secrets.values())
        auths, self.problem = _registry_auth(plan, options.secrets)
        stage_id = options.stage_id or uuid.uuid4().hex[:12]
        self.caches = StageCaches(options.cache, plan) if options.cache is not None else None
        self.cache_log: list[str] | StepReport = []
        """Where cache lines go: the clone step's report, else kept for the first step that starts."""
        self.spec = StageSpec(stage_id, plan, dict(options.labels), auths, self.caches is not None)
        self.preparer = Preparer(engine, self.spec, self._environment, options.lookahead)
        self.failed: list[str] = []
        self.skip_all = self.aborted = self.failing_fast = self.tearing_down = self.errored = False
        self.changed = asyncio.Event()
        self.unfinished: set[str] = set()
        self.running: dict[str, str] = {}
        self.stopped: dict[str, float] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.pumps: set[asyncio.Task[None]] = set()
        self.background: list[asyncio.Task[None]] = []

    async def run(self) -> StageReport:
        self.report.status, self.report.started = Status.RUNNING, time.time()
        await self.reporter.stage_updated(self.report)
        watcher = asyncio.create_task(self._watch())
        cancelled = False
        try:
            await self._start_and_schedule()
        except EngineError as exc:
            self._fail(str(exc))
        except asyncio.CancelledError:
            cancelled = True
            _uncancel()
        except Exception as exc:  # a defect must still end in a report and a teardown
            self._fail(f"internal error: {exc!r}")
        finally:
            watcher.cancel()
        if cancelled:
            await _to_completion(self._abort("cancelled", grace=0))
        cancelled |= await _to_completion(self._teardown())
        removal = self._remove()
        if cancelled or self.options.removal is None:
            cancelled |= await _to_completion(removal)
        else:
            self.options.removal(removal)
        if cancelled:
            raise asyncio.CancelledError
        return self.report

    async def _start_and_schedule(self) -> None:
        if self.problem:
            raise EngineError(self.problem)
        if self.plan.stage.platform.os not in ("", "linux"):
            raise EngineError(f"this runner runs linux pipelines, not {self.plan.stage.platform.os!r}")
        await self.engine.setup(self.spec)
        containers = [s for s in self.plan.steps if s.kind != StepKind.CLONE]
        self.preparer.start(containers, self._worth_preparing)
        if len(containers) == len(self.plan.steps):  # no clone step: fill it while containers are prepared
            await self._fill_workspace(_discard, self._early_log)
        await self._schedule()

    # -- scheduling ---------------------------------------------------------------------------------

    async def _schedule(self) -> None:
        """Start every step whose dependencies are done, until none is left."""
        pending = list(self.plan.steps)
        while pending and not self.aborted:
            progressed = False
            for step in list(pending):
                if not dependencies_done(step, self.reports):
                    continue
                if self.options.max_parallel and len(self.unfinished) >= self.options.max_parallel:
                    break
                pending.remove(step)
                progressed = True
                if self._should_run(step):
                    self.unfinished.add(step.name)
                    task = asyncio.create_task(self._run_step(step))
                    task.add_done_callback(functools.partial(self._step_ended, step.name))
                    self.tasks[step.name] = task
                else:
                    await self._skip(step)
            if not progressed:
                if not self.unfinished:
                    break  # nothing runs and nothing can start: what is left is skipped below
                await self.changed.wait()
                self.changed.clear()
        await self._await_unfinished()
        for step in pending:
            await self._skip(step)

    async def _await_unfinished(self) -> None:
        while self.unfinished:
            patience = self.options.grace + self.options.patience if self.aborted else None
            try:
                await asyncio.wait_for(self.changed.wait(), patience)
            except TimeoutError:  # the engine never confirmed the stop: give up on those steps
                for name in self.unfinished:
                    self.tasks[name].cancel()
                return
            self.changed.clear()

    def _step_ended(self, name: str, _: asyncio.Task[None]) -> None:
        self.unfinished.discard(name)
        self.changed.set()

    def _should_run(self, step: StepPlan) -> bool:
        return should_run(step, self.failed, skip_all=self.skip_all)

    def _worth_preparing(self, step: StepPlan) -> bool:
        return not self.aborted and self._should_run(step)

    async def _skip(self, step: StepPlan) -> None:
        self.preparer.discard(step)
        report = self.reports[step.name]
        if report.status == Status.PENDING:
            report.status = Status.SKIPPED
            await self.reporter.step_updated(report)

    # -- one step -----------------------------------------------------------------------------------

    async def _run_step(self, step: StepPlan) -> None:
        report = self.reports[step.name]
        try:
            if step.kind == StepKind.CLONE:
                await self._clone(report)
            else:
                await self._run_container(step, report)
        except Exception as exc:  # an engine fault must end the step, never the stage's bookkeeping
            await self._end_with_error(step, report, f"internal error: {exc!r}")

    async def _run_container(self, step: StepPlan, report: StepReport) -> None:
        try:
            handle = await self.preparer.take(step)
            if self.aborted or (self.failing_fast and step.run_policy == RunPolicy.ON_SUCCESS):
                await self._skip(step)  # its container goes with the stage
                return
            await self.engine.start(handle)
        except EngineError as exc:
            await self._end_with_error(step, report, str(exc))
            return
        report.status, report.started = Status.RUNNING, time.time()
        self.running[step.name] = handle
        await self.reporter.step_updated(report)
        if isinstance(self.cache_log, list):  # the caches' lines of a stage without a clone step
            lines, self.cache_log = self.cache_log, report
            await self.logs.write(report, lines)
        if self.aborted or (self.failing_fast and not step.detach):
            await self._stop(step.name, self.options.grace)
        pump = asyncio.create_task(self.logs.pump(report, self.engine.output(handle)))
        self.pumps.add(pump)
        if step.detach:
            self.unfinished.discard(step.name)
            self.changed.set()
        error = ""
        try:
            exit_state: Exit | None = await self.engine.wait(handle)
        except EngineError as exc:
            exit_state, error = None, str(exc)
        await pump
        self.pumps.discard(pump)
        self.running.pop(step.name, None)
        await self._report_tests(step, report, handle if exit_state is not None else None)
        await keep_artifacts(
            self.engine,
            handle if exit_state is not None else None,
            step,
            self.plan.workspace.full,
            self.options.artifacts,
            functools.partial(self.logs.write, report),
        )
        await self._finish(step, report, exit_state, error)
        if not step.detach:
            self.background.append(asyncio.create_task(quietly(self.engine.remove(handle))))

    async def _finish(self, step: StepPlan, report: StepReport, exit_state: Exit | None, error: str) -> None:
        report.finished = time.time()
        if exit_state is None:
            report.status, report.exit_code, report.error = Status.ERROR, ERROR_EXIT_CODE, self._mask(error)
        else:
            ended_by_teardown = step.detach and self.tearing_down and step.name not in self.stopped
            report.status, report.error = exit_outcome(
                exit_state, stopped=step.name in self.stopped, ended_by_teardown=ended_by_teardown
            )
            report.exit_code = 0 if ended_by_teardown else exit_state.code
            if report.status == Status.SUCCESS and exit_state.code == SKIP_REMAINING_EXIT_CODE:
                self.skip_all = self.skip_all or not step.detach
        await self._count(step, report)
        await self.reporter.step_updated(report)

    async def _report_tests(self, step: StepPlan, report: StepReport, handle: str | None) -> None:
        """The step's test results, from the container's report files (while it still exists) or its log."""
        if step.kind != StepKind.STEP or step.detach:
            return
        recognised = self.logs.recognised(report)
        if handle is None:
            tests = from_log(recognised)
        else:
            workspace = self.plan.workspace.full
            tests = await collect(self.engine, handle, step, workspace, recognised, self._mask)
        await self.logs.write(report, tests.notes)
        for batch in tests.batches(report.number):
            await self.reporter.step_tests(report, batch)

    async def _count(self, step: StepPlan, report: StepReport) -> None:
        """Record a failed step against the stage, unless it may fail; `failure: fast` stops its siblings."""
        if not report.status.is_failed or step.detach or step.failure == "ignore":
            return
        self.failed.append(step.name)
        if step.failure == "fast" and not self.aborted:
            self.failing_fast = True
            others = [name for name in self.running if name != step.name and not self._is_detached(name)]
            await asyncio.gather(*(self._stop(name, self.options.grace) for name in others))

    async def _end_with_error(self, step: StepPlan, report: StepReport, message: str) -> None:
        now = time.time()
        report.started = report.started or now
        await self.logs.write(report, [message])
        report.status, report.exit_code, report.finished = Status.ERROR, ERROR_EXIT_CODE, now
        report.error = self._mask(message)
        await self._count(step, report)
        await self.reporter.step_updated(report)

    async def _clone(self, report: StepReport) -> None:
        report.status, report.started = Status.RUNNING, time.time()
        await self.reporter.step_updated(report)
        self.cache_log = report
        try:
            await self._fill_workspace(lambda text: self.logs.write(report, [text]))
        except asyncio.CancelledError:  # the stage was aborted during the clone
            report.status = Status.KILLED
        except Exception as exc:
            message = str(exc) or type(exc).__name__
            await self.logs.write(report, [message])
            report.status, report.exit_code, report.error = Status.FAILURE, 1, self._mask(message)
            self.failed.append(report.name)
        else:
            report.status, report.exit_code = Status.SUCCESS, 0
        report.finished = time.time()
        await self.reporter.step_updated(report)

    async def _fill_workspace(self, log: LogWriter, cache_log: LogWriter | None = None) -> None:
        """Fill the workspace, then restore the caches (their keys read from the files going in)."""
        folder = self.engine.workspace_folder(self.spec)
        if isinstance(self.workspace, FillsFolders) and folder is not None:
            await self.workspace.into(folder, log)
            if self.caches is not None:
                await self.caches.scan_folder(folder)
        elif self.workspace is not None:
            archive = await self.workspace(log)
            try:
                if self.caches is not None:
                    await self.caches.scan(archive)
                await self.engine.fill_workspace(self.spec, archive)
            finally:
                archive.close()
        if self.caches is not None:
            await self.caches.restore(self.engine, self.spec, cache_log or log)

    async def _early_log(self, text: str) -> None:
        """Lines from before any step (no clone step): they open the first step's log."""
        if isinstance(self.cache_log, list):
            self.cache_log.append(text)
        else:
            await self.logs.write(self.cache_log, [text])

    async def _save_caches(self) -> None:
        """Save the caches after a successful stage only (never after a failure, cancel or timeout)."""
        failed = [self.reports[name].status for name in self.failed]
        outcome = stage_outcome(failed, aborted=self.aborted, errored=self.errored)
        if self.caches is None or outcome != Status.SUCCESS:
            return
        with contextlib.suppress(Exception):  # a cache never fails the build (the store logs its errors)
            await self.caches.save(self.engine, self.spec, self._early_log)

    # -- cancel, timeout, teardown ------------------------------------------------------------------

    async def _watch(self) -> None:
        """Abort the stage when it is cancelled or runs out of time."""
        reason = "cancelled"
        try:
            async with asyncio.timeout(self.options.timeout):
                await (self.cancel or asyncio.Event()).wait()
        except TimeoutError:
            reason = f"timed out after {_duration(self.options.timeout or 0)}"
        await self._abort(reason, grace=self.options.grace)

    async def _abort(self, reason: str, *, grace: float) -> None:
        """Stop the running steps (again, sooner, if already stopping with a longer grace); skip the rest."""
        if not self.aborted:
            self.aborted = True
            self.report.error = reason
            self.changed.set()
            for step in self.plan.steps:
                task = self.tasks.get(step.name)
                if step.kind == StepKind.CLONE and task is not None:
                    task.cancel()  # the clone runs in-process: nothing to stop but the task
        await asyncio.gather(*(self._stop(name, grace) for name in list(self.running)))

    async def _stop(self, name: str, grace: float, *, kill: bool = True) -> None:
        """Stop a running step; `kill=False`: the teardown stopping a detached step, which is no failure."""
        handle = self.running.get(name)
        if handle is None or self.stopped.get(name, grace + 1) <= grace:
            return
        if kill:
            self.stopped[name] = grace
        with contextlib.suppress(EngineError):
            await self.engine.stop(handle, grace)

    async def _teardown(self) -> None:
        """Stop what still runs, record the outcome, remove everything the stage created."""
        self.tearing_down = True
        await self.preparer.close()
        detached = [name for name in self.running if self._is_detached(name)]
        await asyncio.gather(*(self._stop(name, 0, kill=False) for name in detached))
        if self.tasks:
            _, late = await asyncio.wait(self.tasks.values(), timeout=_TEARDOWN_WAIT)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        for pump in self.pumps:  # pumps of steps given up on: no line may follow the stage's end
            pump.cancel()
        await asyncio.gather(*self.pumps, return_exceptions=True)
        await self._save_caches()
        # The outcome is known: report it before removing the containers, network and volumes (a few
        # hundred milliseconds the build page and the commit status need not wait for).
        await self._report_outcome()

    async def _remove(self) -> None:
        """Remove the steps' containers, then the rest the stage created; an error is added to its report."""
        await asyncio.gather(*self.background, return_exceptions=True)
        try:
            await self.engine.destroy(self.spec)
        except EngineError as exc:  # left for the next start-up's sweep, and said in the stage's error
            self.report.error = "; ".join(filter(None, [self.report.error, self._mask(str(exc))]))
            await self.reporter.stage_updated(self.report)

    async def _report_outcome(self) -> None:
        """End the steps that never ran or never ended, then the stage, and report them."""
        for report in self.report.steps:
            if report.status == Status.PENDING:
                report.status = Status.SKIPPED
            elif report.status == Status.RUNNING:  # given up on: no exit code ever came
                report.status, report.finished = Status.ERROR, time.time()
                report.error = "the engine never reported how the step ended"
            else:
                continue
            await self.reporter.step_updated(report)
        self.report.finished = time.time()
        failed = [self.reports[name].status for name in self.failed]
        self.report.status = stage_outcome(failed, aborted=self.aborted, errored=self.errored)
        await self.reporter.stage_updated(self.report)

    # -- helpers ------------------------------------------------------------------------------------

    def _fail(self, message: str) -> None:
        self.errored = True
        self.report.error = self._mask(message)

    def _mask(self, text: str) -> str:
        return self.logs.masker.mask(text)

    def _environment(self, step: StepPlan) -> dict[str, str]:
        environment = step_environment(step, self.options.secrets, self.failed)
        if self.caches is not None:
            environment = {**self.caches.environment(step), **environment}
        return environment

    def _is_detached(self, name: str) -> bool:
        return self.reports[name].detached


def _registry_auth(plan: Plan, secrets: Mapping[str, str]) -> tuple[tuple[RegistryAuth, ...], str]:
    """The registry credentials of `image_pull_secrets`, and what is wrong with them ('' if nothing)."""
    auths: list[RegistryAuth] = []
    for name in plan.image_pull_secrets:
        value = secrets.get(name)
        if value is None:
            continue
        try:
            auths.extend(parse_docker_config(value))
        except ValueError as exc:
            return (), f"image_pull_secrets: secret {name!r} is {exc}"
    return tuple(auths), ""


async def _to_completion(work: Coroutine[Any, Any, None]) -> bool:
    """Run work to its end even if the caller is cancelled meanwhile; True if it was."""
    task = asyncio.ensure_future(work)
    cancelled = False
    while not task.done():
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError:
            cancelled = True
            _uncancel()
    task.result()
    return cancelled


def _uncancel() -> None:
    """Mark a cancellation of the current task as handled (it is raised again once the teardown is done)."""
    current = asyncio.current_task()
    if current is not None:
        current.uncancel()


def _duration(seconds: float) -> str:
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest}s" if minutes else f"{seconds:g}s"


async def _discard(text: str) -> None:
    """A log for work done before any step (the workspace of a pipeline without a clone step)."""
