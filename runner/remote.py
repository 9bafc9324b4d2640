"""RemoteReporter: a stage's states and log lines delivered to the server in order, held while it is away."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence

from pipelines.report import LogLine, StageReport, StepReport
from pipelines.runner_api import LogAck, LogBatch, ReportBatch, TestBatch
from runner.client import (
    Backoff,
    RunnerClient,
    RunnerError,
    ServerUnavailable,
    StageLost,
    TooLarge,
    Unauthorized,
)
from runner.log_batches import QueuedLines, lines_size, plain
from runner.outbox import Item, Outbox, StageState, StepState, Tests
from runner.tasks import stop_task

MAX_UNSENT_BYTES = 32 * 1024 * 1024
"""Log text held for the server before `step_output` waits (the engine keeps the rest meanwhile)."""
MAX_BATCH_BYTES = 1024 * 1024
MAX_BATCH_LINES = 5000
MIN_BATCH_BYTES = 16 * 1024
"""The smallest batch a 413 answer can shrink batches to."""
LINGER_SECONDS = 0.5
"""After a quiet spell, how long the first report waits for those that follow it into one request (the stage's
end and a full batch leave at once). A short step (`echo hi` in busybox: 0.07-0.56 s from its running state to
the stage's end, measured here) then goes with its log and the stage's end in one request; a viewer waits
half a second at most for a line or a state after a quiet spell (Drone's runner: a second for its logs)."""
STAGE_START_SECONDS = 2.0
"""How long the stage's running state waits for the first step's report, to go with it. The take already set
the stage running at the server, with its start time: that state changes nothing anyone sees (a stage's first
step started 0.3-1.5 s after the take here: its network, image and container first)."""
PACE_SECONDS = 0.25
"""While a stage runs, its reports leave at most this often (its end, and a full batch, at once): the states
and lines of a quarter second share one request (Drone's runner sends its live logs every second)."""
MAX_BATCH_ITEMS = 200
"""Reports sent together in one request at most."""
MAX_ANSWERED_FAILURES = 60
"""Answers (5xx, 429) refusing one report before it is given up (the backoff makes that about 5 minutes)."""


def _ignore(text: str) -> None:
    """Warnings nobody listens to."""


class RemoteReporter:
    """The Reporter of one stage run for the server: one ordered outbox, delivered by one sender task.

    States and log lines leave in the order they happened. While the server is unavailable they wait and
    are retried with a capped exponential backoff; the stage goes on running meanwhile. Consecutive lines
    of a step go as one LogBatch, and the server's LogAck says which lines it already has, so a retried
    batch never stores a line twice nor skips one. When the server says the stage is no longer this
    runner's, `lost` is set and nothing more is sent.
    """

    def __init__(
        self,
        client: RunnerClient,
        stage_id: int,
        *,
        lease: str = "",
        max_unsent: int = MAX_UNSENT_BYTES,
        max_batch_bytes: int = MAX_BATCH_BYTES,
        max_batch_lines: int = MAX_BATCH_LINES,
        backoff: Backoff | None = None,
        warn: Callable[[str], None] = _ignore,
        linger: float = LINGER_SECONDS,
        stage_start: float = STAGE_START_SECONDS,
        pace: float = PACE_SECONDS,
    ) -> None:
        self.client, self.stage_id, self.lease = client, stage_id, lease
        self.max_unsent = max_unsent
        self.max_batch_bytes, self.max_batch_lines = max_batch_bytes, max_batch_lines
        self.backoff = backoff or Backoff()
        self.warn = warn
        self.lost = asyncio.Event()
        """Set when the stage is no longer this runner's, or the server refuses the runner: stop the stage."""
        self.error: RunnerError | None = None
        """Why the reports stopped: StageLost, or Unauthorized."""
        self.last_stage: StageReport | None = None
        """The last stage state handed to the reporter."""
        self.final_delivered = asyncio.Event()
        """Set once the server has a finished state of the stage: a 409 after that means "over", not lost."""
        self._batching = True
        self.linger, self.pace, self.stage_start = linger, pace, stage_start
        self.cancelled = asyncio.Event()
        """Set when a report's answer says the server cancelled the stage."""
        self._urgent = asyncio.Event()
        self._hurry = asyncio.Event()
        """Set when what waits should leave at once: the stage ended, or a whole batch waits."""
        self._last_request = time.monotonic()
        """When the last request left (at first: when the stage was taken, whose state the server has)."""
        self._in_flight = 1
        """How many items at the head of the outbox the request under way carries (at most)."""
        self._answered_failures = 0
        self._outbox = Outbox(stage_id, max_unsent, warn)
        self._wakeup = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._sender: asyncio.Task[None] | None = None
        self._outage = False

    # -- the Reporter protocol ----------------------------------------------------------------------

    async def stage_updated(self, stage: StageReport) -> None:
        """Queue the stage's state."""
        self.last_stage = stage.model_copy(deep=True)
        self._put(StageState(self.last_stage))

    async def step_updated(self, step: StepReport) -> None:
        """Queue the step's state."""
        self._put(StepState(step.model_copy()))

    async def step_output(self, step: StepReport, lines: Sequence[LogLine]) -> None:
        """Queue the lines; waits while more than `max_unsent` bytes of log text are undelivered."""
        if not lines or self.lost.is_set():
            return
        tail = self._outbox.items[-1] if self._outbox.items else None
        if (
            isinstance(tail, QueuedLines)
            and tail.step == step.number
            and tail.lines[-1][0] + 1 == lines[0].pos
            and len(tail.lines) < self.max_batch_lines
        ):
            tail.lines.extend(plain(lines))
            self._put(None)
        else:
            self._put(QueuedLines(step.number, plain(lines)))
        self._outbox.unsent += lines_size(lines)
        while self._outbox.unsent > self.max_unsent and not self.lost.is_set():
            self._outbox.room.clear()
            await self._outbox.room.wait()

    async def step_tests(self, step: StepReport, batch: TestBatch) -> None:
        """Queue the step's test results (before its final state, which follows them)."""
        self._put(Tests(batch))

    # -- delivery -----------------------------------------------------------------------------------

    async def finish(self, report: StageReport, timeout: float | None = None) -> bool:
        """Queue the stage's final state (unless it is already the last one queued) and `flush`."""
        if report != self.last_stage:
            await self.stage_updated(report)
        return await self.flush(timeout)

    async def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued is delivered; False if the stage was lost or the time ran out."""
        try:
            await asyncio.wait_for(self._drained.wait(), timeout)
        except TimeoutError:
            return False
        return not self.lost.is_set() and not self._outbox.final_dropped

    async def close(self) -> None:
        """Stop the sender, delivered or not (`flush` first to wait for delivery)."""
        await stop_task(self._sender)
        self._sender = None

    def lose(self, error: RunnerError) -> None:
        """The stage is no longer this runner's: drop what is queued and send nothing more."""
        if self.error is None:
            self.error = error
        self._outbox.clear()
        self.lost.set()
        self._drained.set()

    @property
    def unsent(self) -> int:
        """Bytes of log text not yet delivered."""
        return self._outbox.unsent

    def _put(self, item: Item | None) -> None:
        if self.lost.is_set():
            return
        if item is not None and not self._supersede(item):
            self._outbox.items.append(item)
        if isinstance(item, StageState) and item.report.status.is_done:
            self._urgent.set()
            self._hurry.set()
        elif self._full():
            self._hurry.set()
        self._drained.clear()
        self._wakeup.set()
        if self._sender is None:
            self._sender = asyncio.create_task(self._deliver(), name=f"reports of stage {self.stage_id}")

    async def _linger(self) -> None:
        """Let what happens next join the first report after a quiet spell (one request, not several), unless
        the stage has ended or a whole batch waits: those go at once. The stage's running state alone waits
        for more (up to `stage_start`) before the linger starts."""
        deadline = time.monotonic() + self.stage_start
        while self._outbox.items and not self._news() and (left := deadline - time.monotonic()) > 0:
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), left)
        await self._hold(self.linger)

    def _news(self) -> bool:
        """Whether something waits that the server does not know from the take (a step's state, lines, tests,
        the stage's end): the stage's running state is not."""
        items = self._outbox.items
        return any(not isinstance(item, StageState) or item.report.status.is_done for item in items)

    async def _hold(self, seconds: float) -> None:
        """Wait so many seconds, unless the stage has ended or a whole batch waits (then not at all)."""
        if seconds <= 0 or self._urgent.is_set() or self._full():
            return
        self._hurry.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._hurry.wait(), seconds)

    def _full(self) -> bool:
        """Whether a whole batch waits (more log text or items than one request carries)."""
        items = self._outbox.items
        tail = items[-1] if items else None
        return (
            self._outbox.unsent >= self.max_batch_bytes
            or len(items) >= MAX_BATCH_ITEMS
            or (isinstance(tail, QueuedLines) and len(tail.lines) >= self.max_batch_lines)
        )

    async def _keep_pace(self) -> None:
        """Wait until `pace` seconds have passed since the last request, unless the stage has ended or a
        full batch waits: what happens meanwhile leaves with it."""
        await self._hold(self._last_request + self.pace - time.monotonic())

    def _supersede(self, item: Item) -> bool:
        """Put this state in place of the last queued one of the same step (or of the stage), if nothing was
        queued after it and it is not being sent: a report replaces the one before, so one request less."""
        items = self._outbox.items
        if len(items) <= self._in_flight:  # the tail may be in flight
            return False
        tail = items[-1]
        same_step = (
            isinstance(item, StepState)
            and isinstance(tail, StepState)
            and tail.report.number == item.report.number
        )
        if same_step or (isinstance(item, StageState) and isinstance(tail, StageState)):
            items[-1] = item
            return True
        return False

    async def _deliver(self) -> None:
        """Send the head of the outbox until it is empty; then wait for more."""
        quiet = True  # the stage's first report comes after a quiet spell too
        while True:
            if not self._outbox.items:
                self._drained.set()
                self._wakeup.clear()
                await self._wakeup.wait()
                quiet = True
                continue
            if self._batching and self.linger > 0:
                if quiet:
                    await self._linger()
                await self._keep_pace()
            quiet = False
            if not self._outbox.items:  # lost meanwhile
                continue
            head = self._outbox.items[0]
            self._last_request = time.monotonic()
            try:
                if self._batching:  # one report too: its answer may say the stage was cancelled
                    await self._send_many()
                else:
                    await self._send_head(head)
            except ServerUnavailable as exc:
                if exc.answered and self._failing_for_good(head, exc):
                    continue
                if not self._outage:
                    self._outage = True
                    self.warn(f"stage {self.stage_id}: {exc}; holding its reports and retrying")
                await asyncio.sleep(self.backoff.delay())
                continue
            except (StageLost, Unauthorized) as exc:
                self.lose(exc)
                continue
            except RunnerError as exc:  # the server will never take it: drop it rather than retry forever
                self.warn(f"stage {self.stage_id}: {exc}; that report is dropped")
                self._outbox.drop_head(head, refused=True)
            if self._outage:
                self._outage = False
                self.warn(f"stage {self.stage_id}: the server is back, sending its reports")
            self.backoff.reset()
            self._answered_failures = 0

    def _failing_for_good(self, head: Item, error: RunnerError) -> bool:
        """After MAX_ANSWERED_FAILURES answers refusing the same report, give up on that one report: a
        server that answers but never takes it must not hold the stage's other reports (and its end)."""
        self._answered_failures += 1
        if self._answered_failures < MAX_ANSWERED_FAILURES:
            return False
        self._answered_failures = 0
        self.warn(f"stage {self.stage_id}: {error}, {MAX_ANSWERED_FAILURES} times; that report is dropped")
        if isinstance(head, QueuedLines):
            self._outbox.skip(self._head_batch(), error)
        else:
            self._outbox.drop_head(head, refused=True)
        return True

    async def _send_head(self, head: Item) -> None:
        if isinstance(head, StageState):
            await self.client.stage(self.stage_id, head.report, self.lease)
            if head.report.status.is_done:
                self.final_delivered.set()
        elif isinstance(head, StepState):
            await self.client.step(self.stage_id, head.report, self.lease)
        elif isinstance(head, Tests):
            await self.client.tests(self.stage_id, head.batch, self.lease)
        else:
            await self._send_lines()
            return
        self._outbox.drop_head(head)

    async def _send_lines(self) -> None:
        batch = self._head_batch()
        try:
            ack = await self.client.logs(self.stage_id, batch, self.lease)
        except (ServerUnavailable, StageLost, Unauthorized):
            raise
        except TooLarge as exc:  # a proxy's limit on bodies: smaller batches, down to a floor
            if self.max_batch_bytes > MIN_BATCH_BYTES:
                self.max_batch_bytes = max(MIN_BATCH_BYTES, self.max_batch_bytes // 2)
                return
            self._outbox.skip(batch, exc)
        except RunnerError as exc:  # the server will never take it: drop it rather than retry forever
            self._outbox.skip(batch, exc)
        else:
            self._outbox.acknowledge(batch, ack)

    async def _send_many(self) -> None:
        """Send what waits at the head of the outbox in one request; one at a time if the server cannot."""
        entries, self._in_flight = self._outbox.collect(
            MAX_BATCH_ITEMS, self.max_batch_lines, self.max_batch_bytes
        )
        try:
            answer = await self.client.reports(
                self.stage_id, ReportBatch(items=[i for i, _ in entries]), self.lease
            )
        except (ServerUnavailable, StageLost, Unauthorized):
            raise
        except RunnerError:  # an older server without the route, or a proxy's limit on bodies
            self._batching = False
            return
        finally:
            self._in_flight = 1
        if answer.cancel:
            self.cancelled.set()
        if len(answer.acks) > len(entries):
            self._batching = False
            return
        for (item, batch), ack in zip(entries, answer.acks, strict=False):  # fewer acks: applied so far
            if batch is not None:
                self._outbox.acknowledge(batch, ack or LogAck(next=batch.first))
                if ack is None or ack.next < batch.first + len(batch.lines):
                    return  # the rest stays queued, sent again from where the server stands
                continue
            head = self._outbox.items[0] if self._outbox.items else None
            if isinstance(head, Tests) and head.batch is item.tests:
                self._outbox.drop_head(head)
                continue
            if not isinstance(head, StageState | StepState) or head.report not in (item.stage, item.step):
                return  # not what was sent (cannot happen while nothing in flight is replaced)
            self._outbox.drop_head(head)
            if item.stage is not None and item.stage.status.is_done:
                self.final_delivered.set()

    def _head_batch(self) -> LogBatch:
        """Lines from the head of the outbox: consecutive ones of the same step, within the batch limits."""
        return self._outbox.head_batch(self.max_batch_lines, self.max_batch_bytes)
