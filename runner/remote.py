"""RemoteReporter: a stage's states and log lines delivered to the server in order, held while it is away."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipelines.report import LogLine, StageReport, StepReport
from pipelines.runner_api import LogAck, LogBatch, ReportBatch, ReportItem, TestBatch
from runner.client import (
    Backoff,
    RunnerClient,
    RunnerError,
    ServerUnavailable,
    StageLost,
    TooLarge,
    Unauthorized,
)
from runner.log_batches import QueuedLines, batch_at, lines_size, plain
from runner.tasks import stop_task

MAX_UNSENT_BYTES = 32 * 1024 * 1024
"""Log text held for the server before `step_output` waits (the engine keeps the rest meanwhile)."""
MAX_BATCH_BYTES = 1024 * 1024
MAX_BATCH_LINES = 5000
MIN_BATCH_BYTES = 16 * 1024
"""The smallest batch a 413 answer can shrink batches to."""
LINGER_SECONDS = 0.05
"""After a quiet spell, how long the first report waits for the ones that follow it into one request."""
PACE_SECONDS = 0.25
"""While a stage runs, its reports leave at most this often (its end, and a full batch, at once): the states
and lines of a quarter second share one request (Drone's runner sends its live logs every second)."""
MAX_BATCH_ITEMS = 200
"""Reports sent together in one request at most."""
MAX_ANSWERED_FAILURES = 60
"""Answers (5xx, 429) refusing one report before it is given up (the backoff makes that about 5 minutes)."""
PLACEHOLDER = "[hangar]"
MAX_PLACEHOLDER = 300


@dataclass
class _StageState:
    report: StageReport


@dataclass
class _StepState:
    report: StepReport


@dataclass
class _Tests:
    batch: TestBatch


_Item = _StageState | _StepState | QueuedLines | _Tests


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
        self._final_dropped = False
        self._batching = True
        self.linger, self.pace = linger, pace
        self._urgent = asyncio.Event()
        self._hurry = asyncio.Event()
        """Set when what waits should leave at once: the stage ended, or a whole batch waits."""
        self._last_request = time.monotonic()
        """When the last request left (at first: when the stage was taken, whose state the server has)."""
        self._in_flight = 1
        """How many items at the head of the outbox the request under way carries (at most)."""
        self._answered_failures = 0
        self._outbox: deque[_Item] = deque()
        self._unsent = 0
        self._wakeup = asyncio.Event()
        self._drained = asyncio.Event()
        self._drained.set()
        self._room = asyncio.Event()
        self._room.set()
        self._sender: asyncio.Task[None] | None = None
        self._outage = False

    # -- the Reporter protocol ----------------------------------------------------------------------

    async def stage_updated(self, stage: StageReport) -> None:
        """Queue the stage's state."""
        self.last_stage = stage.model_copy(deep=True)
        self._put(_StageState(self.last_stage))

    async def step_updated(self, step: StepReport) -> None:
        """Queue the step's state."""
        self._put(_StepState(step.model_copy()))

    async def step_output(self, step: StepReport, lines: Sequence[LogLine]) -> None:
        """Queue the lines; waits while more than `max_unsent` bytes of log text are undelivered."""
        if not lines or self.lost.is_set():
            return
        tail = self._outbox[-1] if self._outbox else None
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
        self._unsent += lines_size(lines)
        while self._unsent > self.max_unsent and not self.lost.is_set():
            self._room.clear()
            await self._room.wait()

    async def step_tests(self, step: StepReport, batch: TestBatch) -> None:
        """Queue the step's test results (before its final state, which follows them)."""
        self._put(_Tests(batch))

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
        return not self.lost.is_set() and not self._final_dropped

    async def close(self) -> None:
        """Stop the sender, delivered or not (`flush` first to wait for delivery)."""
        await stop_task(self._sender)
        self._sender = None

    def lose(self, error: RunnerError) -> None:
        """The stage is no longer this runner's: drop what is queued and send nothing more."""
        if self.error is None:
            self.error = error
        self._outbox.clear()
        self._unsent = 0
        self.lost.set()
        self._room.set()
        self._drained.set()

    @property
    def unsent(self) -> int:
        """Bytes of log text not yet delivered."""
        return self._unsent

    def _put(self, item: _Item | None) -> None:
        if self.lost.is_set():
            return
        if item is not None and not self._supersede(item):
            self._outbox.append(item)
        if isinstance(item, _StageState) and item.report.status.is_done:
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
        the stage has ended: its end goes out at once."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._urgent.wait(), self.linger)

    def _full(self) -> bool:
        """Whether a whole batch waits (more log text or items than one request carries)."""
        tail = self._outbox[-1] if self._outbox else None
        return (
            self._unsent >= self.max_batch_bytes
            or len(self._outbox) >= MAX_BATCH_ITEMS
            or (isinstance(tail, QueuedLines) and len(tail.lines) >= self.max_batch_lines)
        )

    async def _keep_pace(self) -> None:
        """Wait until `pace` seconds have passed since the last request, unless the stage has ended or a
        full batch waits: what happens meanwhile leaves with it."""
        wait = self._last_request + self.pace - time.monotonic()
        if wait <= 0 or self._urgent.is_set() or self._full():
            return
        self._hurry.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._hurry.wait(), wait)

    def _supersede(self, item: _Item) -> bool:
        """Put this state in place of the last queued one of the same step (or of the stage), if nothing was
        queued after it and it is not being sent: a report replaces the one before, so one request less."""
        if len(self._outbox) <= self._in_flight:  # the tail may be in flight
            return False
        tail = self._outbox[-1]
        same_step = (
            isinstance(item, _StepState)
            and isinstance(tail, _StepState)
            and tail.report.number == item.report.number
        )
        if same_step or (isinstance(item, _StageState) and isinstance(tail, _StageState)):
            self._outbox[-1] = item
            return True
        return False

    async def _deliver(self) -> None:
        """Send the head of the outbox until it is empty; then wait for more."""
        while True:
            if not self._outbox:
                self._drained.set()
                self._wakeup.clear()
                await self._wakeup.wait()
                if self._batching and self.linger > 0:
                    await self._linger()
                continue
            if self._batching and self.linger > 0:
                await self._keep_pace()
            if not self._outbox:  # lost meanwhile
                continue
            head = self._outbox[0]
            self._last_request = time.monotonic()
            try:
                if self._batching and len(self._outbox) > 1:
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
                self._drop_head(head, refused=True)
            if self._outage:
                self._outage = False
                self.warn(f"stage {self.stage_id}: the server is back, sending its reports")
            self.backoff.reset()
            self._answered_failures = 0

    def _failing_for_good(self, head: _Item, error: RunnerError) -> bool:
        """After MAX_ANSWERED_FAILURES answers refusing the same report, give up on that one report: a
        server that answers but never takes it must not hold the stage's other reports (and its end)."""
        self._answered_failures += 1
        if self._answered_failures < MAX_ANSWERED_FAILURES:
            return False
        self._answered_failures = 0
        self.warn(f"stage {self.stage_id}: {error}, {MAX_ANSWERED_FAILURES} times; that report is dropped")
        if isinstance(head, QueuedLines):
            self._skip(self._batch(head.step), error)
        else:
            self._drop_head(head, refused=True)
        return True

    async def _send_head(self, head: _Item) -> None:
        if isinstance(head, _StageState):
            await self.client.stage(self.stage_id, head.report, self.lease)
            if head.report.status.is_done:
                self.final_delivered.set()
        elif isinstance(head, _StepState):
            await self.client.step(self.stage_id, head.report, self.lease)
        elif isinstance(head, _Tests):
            await self.client.tests(self.stage_id, head.batch, self.lease)
        else:
            await self._send_lines(head.step)
            return
        self._drop_head(head)

    async def _send_lines(self, step: int) -> None:
        batch = self._batch(step)
        try:
            ack = await self.client.logs(self.stage_id, batch, self.lease)
        except (ServerUnavailable, StageLost, Unauthorized):
            raise
        except TooLarge as exc:  # a proxy's limit on bodies: smaller batches, down to a floor
            if self.max_batch_bytes > MIN_BATCH_BYTES:
                self.max_batch_bytes = max(MIN_BATCH_BYTES, self.max_batch_bytes // 2)
                return
            self._skip(batch, exc)
        except RunnerError as exc:  # the server will never take it: drop it rather than retry forever
            self._skip(batch, exc)
        else:
            self._acknowledge(batch, ack)

    def _batch(self, step: int) -> LogBatch:
        """Lines from the head of the outbox: consecutive ones of the same step, within the batch limits."""
        return batch_at(self._outbox, 0, self.max_batch_lines, self.max_batch_bytes)[0]

    async def _send_many(self) -> None:
        """Send what waits at the head of the outbox in one request; one at a time if the server cannot."""
        entries, self._in_flight = self._collect()
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
        if len(answer.acks) > len(entries):
            self._batching = False
            return
        for (item, batch), ack in zip(entries, answer.acks, strict=False):  # fewer acks: applied so far
            if batch is not None:
                self._acknowledge(batch, ack or LogAck(next=batch.first))
                if ack is None or ack.next < batch.first + len(batch.lines):
                    return  # the rest stays queued, sent again from where the server stands
                continue
            head = self._outbox[0] if self._outbox else None
            if isinstance(head, _Tests) and head.batch is item.tests:
                self._drop_head(head)
                continue
            if not isinstance(head, _StageState | _StepState) or head.report not in (item.stage, item.step):
                return  # not what was sent (cannot happen while nothing in flight is replaced)
            self._drop_head(head)
            if item.stage is not None and item.stage.status.is_done:
                self.final_delivered.set()

    def _collect(self) -> tuple[list[tuple[ReportItem, LogBatch | None]], int]:
        """The head of the outbox as report items (states as they are, runs of a step's lines as batches),
        and how many outbox items they draw on."""
        entries: list[tuple[ReportItem, LogBatch | None]] = []
        index, size = 0, 0
        while index < len(self._outbox) and len(entries) < MAX_BATCH_ITEMS and size < self.max_batch_bytes:
            item = self._outbox[index]
            if isinstance(item, _StageState):
                entries.append((ReportItem(stage=item.report), None))
            elif isinstance(item, _StepState):
                entries.append((ReportItem(step=item.report), None))
            elif isinstance(item, _Tests):
                entries.append((ReportItem(tests=item.batch), None))
            else:
                batch, after, batch_size = batch_at(
                    self._outbox, index, self.max_batch_lines, self.max_batch_bytes
                )
                entries.append((ReportItem(logs=batch), batch))
                size += batch_size
                if after is None:
                    return entries, index + 1
                index = after
                continue
            index += 1
        return entries, index

    def _acknowledge(self, batch: LogBatch, ack: LogAck) -> None:
        """Drop the lines the server has: those before `ack.next` (all of the batch if it took none)."""
        end = batch.first + len(batch.lines)
        if ack.next <= batch.first:  # it wants lines already delivered: resending this batch would loop
            self.warn(
                f"stage {self.stage_id}: the server expects line {ack.next} of step {batch.step}, "
                f"not {batch.first}; lines {batch.first}-{end - 1} are dropped"
            )
            self._trim(batch.step, end)
        else:
            self._trim(batch.step, ack.next)

    def _trim(self, step: int, before: int) -> None:
        """Remove the step's lines positioned before `before` from the head of the outbox."""
        while self._outbox:
            head = self._outbox[0]
            if not isinstance(head, QueuedLines) or head.step != step:
                break
            cut = max(0, before - head.lines[0][0])  # an item's lines have consecutive positions
            self._release(lines_size(head.lines[:cut]))
            if cut < len(head.lines):
                del head.lines[:cut]
                break
            self._outbox.popleft()

    def _skip(self, batch: LogBatch, error: RunnerError) -> None:
        """The server refused these lines: send a short placeholder in their place, so the lines after them
        keep their positions (a gap would make the server refuse every later batch); if even the
        placeholders are refused, drop them."""
        end = batch.first + len(batch.lines)
        lines = f"lines {batch.first}-{end - 1} of step {batch.step}"
        if all(text.startswith(PLACEHOLDER) for _, text in batch.lines):
            self.warn(f"stage {self.stage_id}: {error}; {lines} dropped")
            self._trim(batch.step, end)
            return
        self.warn(f"stage {self.stage_id}: {error}; {lines} replaced by a note")
        note = f"{PLACEHOLDER} this line was not delivered: {error}"[:MAX_PLACEHOLDER]
        for item in self._outbox:
            if not isinstance(item, QueuedLines) or item.step != batch.step:
                break
            for index, (position, seconds, text) in enumerate(item.lines):
                if batch.first <= position < end:
                    self._release(len(text) - len(note))
                    item.lines[index] = (position, seconds, note)

    def _drop_head(self, head: _Item, *, refused: bool = False) -> None:
        if self._outbox and self._outbox[0] is head:
            self._outbox.popleft()
            if refused and isinstance(head, _StageState) and head.report.status.is_done:
                self._final_dropped = True  # the server never got the stage's end: not delivered
            if isinstance(head, QueuedLines):
                self._release(lines_size(head.lines))

    def _release(self, size: int) -> None:
        self._unsent -= size
        if self._unsent <= self.max_unsent:
            self._room.set()
