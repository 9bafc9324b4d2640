"""The runner daemon: take stages from the server and run them, `capacity` at a time, until it is stopped.

Each slot loops: ask for a stage and take it in the same request (long-poll), run it while renewing its lease
and watching for a cancel, deliver its final report, ask again while the stage's containers, network and
volumes are removed (a slot's previous removal must end before it hands over the next one). A stop lets the
running stages finish; a second one cancels them (their teardown still completes). The daemon returns once
every removal has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol, TypeVar

from pipelines.report import StageReport
from pipelines.runner_api import Assignment, RunnerInfo, StageOffer, TakenStage
from pipelines.status import Status
from runner.artifact_stores import ServerArtifacts
from runner.artifacts import ArtifactOptions
from runner.caches.remote import RemoteCacheStore
from runner.caches.setup import disk_setup
from runner.caches.stage import CacheSetup
from runner.caches.store import CacheStore
from runner.client import Backoff, RunnerClient, RunnerError, ServerUnavailable, StageLost, Unauthorized
from runner.clone import Netrc
from runner.engine import Engine
from runner.executor import StageOptions, WorkspaceSource, run_stage
from runner.labels import OWNER_LABEL, RUNNER_LABEL, owner_label
from runner.remote import RemoteReporter
from runner.settings import RunnerSettings
from runner.workspace import cloned_workspace

EngineFactory = Callable[[], AbstractAsyncContextManager[Engine]]
"""Opens the engine the daemon runs its stages on, for as long as it serves."""
WorkspaceFactory = Callable[[Assignment], WorkspaceSource | None]
"""What fills an accepted stage's workspace (None: leave it empty)."""

KILLED_FLUSH_TIMEOUT = 10.0
"""Seconds a killed daemon still tries to deliver a stage's last reports."""
WATCH_DELAY_SECONDS = 2.0
"""How long after a stage starts its cancel watch (a long-poll) opens: a stage ending sooner never opens one
(a 1-step build with its clone lasted 0.8-1.9 s here). Meanwhile a cancel is heard in the answer to the
stage's next report, else once the watch opens (the server answers at once for a stage cancelled already)."""

T = TypeVar("T")


class DaemonListener(Protocol):
    """Hears what the daemon does: `hangar runner` prints it."""

    def taken(self, offer: StageOffer) -> None:
        """A stage was accepted and starts."""

    def finished(self, offer: StageOffer, report: StageReport, delivered: bool) -> None:
        """A stage ended; `delivered` says whether the server has its final report."""

    def warning(self, text: str) -> None:
        """Something the operator should know (the server is away, a stage was lost)."""


class QuietListener:
    """A listener that ignores everything."""

    def taken(self, offer: StageOffer) -> None:
        """Ignore it."""

    def finished(self, offer: StageOffer, report: StageReport, delivered: bool) -> None:
        """Ignore it."""

    def warning(self, text: str) -> None:
        """Ignore it."""


def clone_workspace(assignment: Assignment) -> WorkspaceSource | None:
    """The repository cloned at the exact commit with the stage's credentials; None when clone is disabled."""
    clone = assignment.plan.clone
    if clone.disable:
        return None
    credentials = assignment.credentials
    netrc = Netrc(credentials.machine, credentials.login, credentials.password) if credentials else None
    return cloned_workspace(clone, netrc)


@dataclass(eq=False)
class _Run:
    """One stage being run by a slot."""

    offer: StageOffer
    assignment: Assignment
    cancel: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[StageReport] | None = None


class Daemon:
    """Takes stages from the server and runs them on the engine, `settings.capacity` at a time."""

    def __init__(
        self,
        settings: RunnerSettings,
        engine_factory: EngineFactory,
        *,
        client: RunnerClient | None = None,
        workspace: WorkspaceFactory = clone_workspace,
        listener: DaemonListener | None = None,
    ) -> None:
        self.settings = settings
        self.engine_factory = engine_factory
        self.client = client or RunnerClient(settings.server, settings.credential, settings.name)
        self._own_client = client is None
        self.workspace = workspace
        self.listener: DaemonListener = listener or QuietListener()
        self.info = RunnerInfo(
            platform=settings.platform,
            labels=dict(settings.labels),
            capacity=settings.capacity,
            version=_version(),
        )
        self.stops = 0
        self._stopping = asyncio.Event()
        self._killed = asyncio.Event()
        self._runs: set[_Run] = set()
        self._removals: set[asyncio.Task[None]] = set()
        self._fatal: Unauthorized | None = None
        self._away = False

    @property
    def running(self) -> int:
        """How many stages run now."""
        return len(self._runs)

    def stop(self) -> None:
        """Take no new stage and let the running ones finish; called again, cancel them (SIGTERM, SIGINT)."""
        self.stops += 1
        self._stopping.set()
        if self.stops > 1:
            self.kill()

    def kill(self) -> None:
        """Cancel the running stages at once (their teardown still completes) and take no new one."""
        self._stopping.set()
        self._killed.set()
        for run in list(self._runs):
            run.cancel.set()
            if run.task is not None:
                run.task.cancel()

    async def run(self) -> None:
        """Serve until stopped; raises Unauthorized when the server refuses the runner."""
        try:
            async with self.engine_factory() as engine:
                slots = [asyncio.create_task(self._slot(engine)) for _ in range(self.settings.capacity)]
                try:
                    await asyncio.gather(*slots)
                finally:
                    for slot in slots:
                        slot.cancel()
                    await asyncio.gather(*slots, return_exceptions=True)
                    await asyncio.gather(*self._removals, return_exceptions=True)
        finally:
            if self._own_client:
                await self.client.close()
        if self._fatal is not None:
            raise self._fatal

    # -- a slot -------------------------------------------------------------------------------------

    async def _slot(self, engine: Engine) -> None:
        """Ask for a stage and take it in one request (or accept an older server's offer), run it, again,
        until stopped."""
        backoff = Backoff()
        removal: asyncio.Task[None] | None = None
        lease, retry = secrets.token_hex(8), False
        while not self._stopping.is_set():
            try:
                got = await self._until_stopped(self.client.take(self.info, lease, retry), _is_taken)
                retry = False  # a clean answer: nothing else was taken under this lease
                assignment: Assignment | None
                if isinstance(got, TakenStage):
                    offer, assignment = got.offer, got.assignment
                    lease = secrets.token_hex(8)
                elif got is None:
                    continue
                else:  # a server older than one-request takes
                    offer, assignment = got, await self._accept(got)
            except ServerUnavailable as exc:
                retry = True  # the take may have happened: ask for that stage first (same lease)
                self._unavailable(str(exc))
                await self._pause(backoff.delay())
                continue
            except Unauthorized as exc:
                self._fail(exc)
                return
            except RunnerError as exc:
                retry = True
                self.listener.warning(str(exc))
                await self._pause(backoff.delay())
                continue
            self._available()
            backoff.reset()
            if assignment is not None:  # None: another runner took it first
                previous, removal = removal, await self._execute(engine, _Run(offer, assignment))
                if previous is not None:
                    await asyncio.wait({previous})

    async def _accept(self, offer: StageOffer) -> Assignment | None:
        """Accept the offer, asking again until the server answers: it answers a repeated accept under the
        same lease id with the same assignment, so a lost answer never leaves a stage nobody runs."""
        backoff = Backoff()
        lease = secrets.token_hex(8)
        while True:
            try:
                return await self.client.accept(offer.stage_id, offer.version, lease)
            except ServerUnavailable as exc:
                if self._killed.is_set():
                    raise
                self._unavailable(str(exc))
                await asyncio.sleep(backoff.delay())

    async def _execute(self, engine: Engine, run: _Run) -> asyncio.Task[None] | None:
        """Run one accepted stage beside its lease renewal and cancel watch, then deliver its final report;
        the removal of what it created, if still going, is returned."""
        assignment, stage_id = run.assignment, run.assignment.stage_id
        removals: list[asyncio.Task[None]] = []

        def remove_in_background(removal: Coroutine[Any, Any, None]) -> None:
            removals.append(asyncio.create_task(removal))  # at once, beside the final report's delivery

        workspace = self.workspace(assignment)
        reporter = RemoteReporter(self.client, stage_id, lease=assignment.lease, warn=self.listener.warning)
        options = StageOptions(
            cache=self._cache_setup(assignment),
            secrets=assignment.secrets,
            labels={RUNNER_LABEL: self.settings.name, OWNER_LABEL: owner_label()},
            timeout=assignment.timeout_minutes * 60,
            grace=self.settings.grace,
            stage_id=f"{stage_id}-{secrets.token_hex(3)}",
            artifacts=ArtifactOptions(
                ServerArtifacts(self.client, stage_id, assignment.lease),
                self.settings.artifact_max_files,
                self.settings.artifact_max_bytes,
            ),
            removal=remove_in_background,
        )
        self.listener.taken(run.offer)
        lease = asyncio.create_task(self._keep_lease(run, reporter))
        watchers = [
            asyncio.create_task(self._watch(run, reporter)),
            asyncio.create_task(self._stop_when_lost(run, reporter)),
            asyncio.create_task(self._cancel_when_told(run, reporter)),
        ]
        stage = run_stage(
            engine, reporter, assignment.plan, workspace=workspace, options=options, cancel=run.cancel
        )
        run.task = asyncio.create_task(stage)
        self._runs.add(run)
        if self._killed.is_set():
            run.task.cancel()
        try:
            try:
                await asyncio.wait({run.task})
            finally:
                await _finished(run.task)
                await _cancelled(watchers)
                self._runs.discard(run)
            report = _final_report(run, reporter)
            delivered = await self._deliver(reporter, report)
        finally:
            await _cancelled([lease])
            removal = self._hand_over(removals, reporter)
        self.listener.finished(run.offer, report, delivered)
        return removal

    def _hand_over(self, removals: list[asyncio.Task[None]], reporter: RemoteReporter) -> asyncio.Task[None]:
        """Wait in the background for the stage's removal (if run_stage handed it over), deliver the error it
        may add to the final report, then close the reporter."""

        async def remove_then_close() -> None:
            try:
                for removal in removals:
                    await removal
                if reporter.last_stage is not None and removals:
                    await self._deliver(reporter, reporter.last_stage)
            finally:
                await reporter.close()

        task = asyncio.create_task(remove_then_close())
        self._removals.add(task)
        task.add_done_callback(self._removals.discard)
        return task

    async def _deliver(self, reporter: RemoteReporter, report: StageReport) -> bool:
        """Deliver the final report, however long the server is away, unless the daemon is killed."""
        finishing = asyncio.create_task(reporter.finish(report))
        killed = asyncio.create_task(self._killed.wait())
        try:
            await asyncio.wait({finishing, killed}, return_when=asyncio.FIRST_COMPLETED)
            if not finishing.done():
                await asyncio.wait({finishing}, timeout=KILLED_FLUSH_TIMEOUT)
        finally:
            await _cancelled([killed, finishing])
        return not finishing.cancelled() and finishing.result()

    def _cache_setup(self, assignment: Assignment) -> CacheSetup | None:
        """The stage's caches: this host's disk, then the server's shared cache when the policy says so."""
        policy = assignment.cache
        if policy is None:
            return None
        shared: list[CacheStore] = []
        if policy.shared:
            shared.append(RemoteCacheStore(self.client, assignment.stage_id, assignment.lease))
        return disk_setup(policy, self.settings.cache_dir, self.settings.cache_max_bytes, shared)

    # -- beside a running stage ---------------------------------------------------------------------

    async def _keep_lease(self, run: _Run, reporter: RemoteReporter) -> None:
        """Renew the lease every quarter of its length (sooner after a failure) until cancelled."""
        quarter = run.assignment.lease_seconds / 4

        async def renew() -> float:
            nonlocal quarter
            reply = await self.client.renew(run.assignment.stage_id, run.assignment.lease)
            if reply.cancel:
                run.cancel.set()
            quarter = reply.lease_seconds / 4
            return quarter

        await asyncio.sleep(quarter)
        await self._repeat(run, reporter, renew, lambda: quarter)

    async def _watch(self, run: _Run, reporter: RemoteReporter) -> None:
        """From WATCH_DELAY_SECONDS on, wait for the server to cancel the stage (long-polls); cancel it."""
        await asyncio.sleep(WATCH_DELAY_SECONDS)

        async def watch() -> float | None:
            if await self.client.watch(run.assignment.stage_id, run.assignment.lease):
                if not reporter.final_delivered.is_set():  # else: it ended, and the server says so
                    run.cancel.set()
                return None
            return 0.0

        await self._repeat(run, reporter, watch, lambda: math.inf)

    async def _repeat(
        self,
        run: _Run,
        reporter: RemoteReporter,
        attempt: Callable[[], Awaitable[float | None]],
        longest_pause: Callable[[], float],
    ) -> None:
        """Repeat the attempt after the pause it returns, until it returns None; failures retry sooner."""
        backoff = Backoff()
        while True:
            try:
                pause = await attempt()
                backoff.reset()
            except ServerUnavailable:
                pause = min(backoff.delay(), longest_pause())
            except StageLost as exc:
                ended = reporter.final_delivered.is_set() or (run.task is not None and run.task.done())
                if not ended:  # once it ended, its final report decides
                    reporter.lose(exc)
                return
            except Unauthorized as exc:
                self._fail(exc)
                reporter.lose(exc)
                return
            except RunnerError as exc:
                self.listener.warning(str(exc))
                pause = min(backoff.delay(), longest_pause())
            if pause is None:
                return
            await asyncio.sleep(pause)

    async def _cancel_when_told(self, run: _Run, reporter: RemoteReporter) -> None:
        """Cancel the stage once a report's answer says the server cancelled it."""
        await reporter.cancelled.wait()
        run.cancel.set()

    async def _stop_when_lost(self, run: _Run, reporter: RemoteReporter) -> None:
        """Cancel the stage once it is no longer this runner's."""
        await reporter.lost.wait()
        run.cancel.set()
        if isinstance(reporter.error, Unauthorized):
            self._fail(reporter.error)
        else:
            self.listener.warning(f"stage {run.assignment.stage_id} lost, cancelling it: {reporter.error}")

    # -- helpers ------------------------------------------------------------------------------------

    async def _until_stopped(
        self, work: Awaitable[T], keep: Callable[[T], bool] = lambda _: False
    ) -> T | None:
        """The work's result, or None if the daemon is stopped first (the work is then cancelled); a result
        that came with the stop is kept if `keep` says so (a stage taken must be run)."""
        task = asyncio.ensure_future(work)
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await _cancelled([stopping] if task.done() else [stopping, task])
        if task.cancelled():
            return None
        if self._stopping.is_set():  # an offer not accepted is simply left for another runner
            if task.exception() is None and keep(task.result()):
                return task.result()
            return None
        return task.result()

    async def _pause(self, seconds: float) -> None:
        """Sleep, unless the daemon is stopped meanwhile."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    def _unavailable(self, reason: str) -> None:
        if not self._away:
            self._away = True
            self.listener.warning(f"{reason}; retrying")

    def _available(self) -> None:
        if self._away:
            self._away = False
            self.listener.warning(f"{self.client.server} answers again")

    def _fail(self, error: Unauthorized) -> None:
        """The server refuses this runner: stop everything."""
        if self._fatal is None:
            self._fatal = error
        self.kill()


def _is_taken(got: TakenStage | StageOffer | None) -> bool:
    return isinstance(got, TakenStage)


def _final_report(run: _Run, reporter: RemoteReporter) -> StageReport:
    """The stage's final report: run_stage's, else the last one the executor sent, marked as ended."""
    task = run.task
    assert task is not None and task.done()
    if not task.cancelled() and task.exception() is None:
        return task.result()
    last = reporter.last_stage
    if last is not None and last.status.is_done:
        return last
    plan = run.assignment.plan
    base = last or StageReport(number=plan.stage.number, name=plan.stage.name, started=time.time())
    if task.cancelled():
        status, error = Status.KILLED, "the runner was stopped"
    else:
        status, error = Status.ERROR, f"runner error: {task.exception()!r}"
    return base.model_copy(update={"status": status, "error": error, "finished": time.time()})


async def _finished(task: asyncio.Task[StageReport]) -> None:
    """Wait for the stage's task to end; when the caller is cancelled, cancel it and wait for its teardown."""
    if task.done():
        return
    task.cancel()
    await asyncio.wait({task})


async def _cancelled(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel the tasks and wait for them to end."""
    tasks = list(tasks)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _version() -> str:
    try:
        return version("hangar-ci")
    except PackageNotFoundError:
        return ""
