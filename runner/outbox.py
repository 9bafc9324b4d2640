"""A stage's outbox: its reports waiting for the server, in order, and what the server's answers do to them
(lines it has are trimmed, lines it refused are replaced by a note, delivered reports leave)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from pipelines.report import StageReport, StepReport
from pipelines.runner_api import LogAck, LogBatch, ReportItem, TestBatch
from runner.client import RunnerError
from runner.log_batches import QueuedLines, batch_at, lines_size

PLACEHOLDER = "[hangar]"
MAX_PLACEHOLDER = 300


@dataclass
class StageState:
    """The stage's state, waiting."""

    report: StageReport


@dataclass
class StepState:
    """A step's state, waiting."""

    report: StepReport


@dataclass
class Tests:
    """A step's test results, waiting."""

    batch: TestBatch


Item = StageState | StepState | QueuedLines | Tests

Entries = list[tuple[ReportItem, LogBatch | None]]
"""Report items to send together, each with the LogBatch it carries (None for the others)."""


class Outbox:
    """The reports of one stage not delivered yet, oldest first, and the bytes of log text they hold."""

    def __init__(self, stage_id: int, max_unsent: int, warn: Callable[[str], None]) -> None:
        self.stage_id, self.max_unsent, self.warn = stage_id, max_unsent, warn
        self.items: deque[Item] = deque()
        self.unsent = 0
        """Bytes of log text not delivered yet."""
        self.room = asyncio.Event()
        """Set while `unsent` is within `max_unsent`."""
        self.room.set()
        self.final_dropped = False
        """The server refused the stage's final state for good: it never got the stage's end."""

    def clear(self) -> None:
        """Forget everything waiting (the stage is no longer this runner's)."""
        self.items.clear()
        self.unsent = 0
        self.room.set()

    def head_batch(self, max_lines: int, max_bytes: int) -> LogBatch:
        """Lines from the head: consecutive ones of the same step, within the batch limits."""
        return batch_at(self.items, 0, max_lines, max_bytes)[0]

    def collect(self, max_items: int, max_lines: int, max_bytes: int) -> tuple[Entries, int]:
        """The head as report items (states as they are, runs of a step's lines as batches), and how many
        items of the outbox they draw on."""
        entries: Entries = []
        index, size = 0, 0
        while index < len(self.items) and len(entries) < max_items and size < max_bytes:
            item = self.items[index]
            if isinstance(item, StageState):
                entries.append((ReportItem(stage=item.report), None))
            elif isinstance(item, StepState):
                entries.append((ReportItem(step=item.report), None))
            elif isinstance(item, Tests):
                entries.append((ReportItem(tests=item.batch), None))
            else:
                batch, after, batch_size = batch_at(self.items, index, max_lines, max_bytes)
                entries.append((ReportItem(logs=batch), batch))
                size += batch_size
                if after is None:
                    return entries, index + 1
                index = after
                continue
            index += 1
        return entries, index

    def acknowledge(self, batch: LogBatch, ack: LogAck) -> None:
        """Drop the lines the server has: those before `ack.next` (all of the batch if it took none)."""
        end = batch.first + len(batch.lines)
        if ack.next <= batch.first:  # it wants lines already delivered: resending this batch would loop
            self.warn(
                f"stage {self.stage_id}: the server expects line {ack.next} of step {batch.step}, "
                f"not {batch.first}; lines {batch.first}-{end - 1} are dropped"
            )
            self.trim(batch.step, end)
        else:
            self.trim(batch.step, ack.next)

    def trim(self, step: int, before: int) -> None:
        """Remove the step's lines positioned before `before` from the head."""
        while self.items:
            head = self.items[0]
            if not isinstance(head, QueuedLines) or head.step != step:
                break
            cut = max(0, before - head.lines[0][0])  # an item's lines have consecutive positions
            self.release(lines_size(head.lines[:cut]))
            if cut < len(head.lines):
                del head.lines[:cut]
                break
            self.items.popleft()

    def skip(self, batch: LogBatch, error: RunnerError) -> None:
        """The server refused these lines: put a short placeholder in their place, so the lines after them
        keep their positions (a gap would make the server refuse every later batch); if even the
        placeholders are refused, drop them."""
        end = batch.first + len(batch.lines)
        lines = f"lines {batch.first}-{end - 1} of step {batch.step}"
        if all(text.startswith(PLACEHOLDER) for _, text in batch.lines):
            self.warn(f"stage {self.stage_id}: {error}; {lines} dropped")
            self.trim(batch.step, end)
            return
        self.warn(f"stage {self.stage_id}: {error}; {lines} replaced by a note")
        note = f"{PLACEHOLDER} this line was not delivered: {error}"[:MAX_PLACEHOLDER]
        for item in self.items:
            if not isinstance(item, QueuedLines) or item.step != batch.step:
                break
            for index, (position, seconds, text) in enumerate(item.lines):
                if batch.first <= position < end:
                    self.release(len(text) - len(note))
                    item.lines[index] = (position, seconds, note)

    def drop_head(self, head: Item, *, refused: bool = False) -> None:
        """Remove `head` if it still is the head (delivered, or refused for good)."""
        if self.items and self.items[0] is head:
            self.items.popleft()
            if refused and isinstance(head, StageState) and head.report.status.is_done:
                self.final_dropped = True
            if isinstance(head, QueuedLines):
                self.release(lines_size(head.lines))

    def release(self, size: int) -> None:
        """`size` bytes of log text are no longer waiting."""
        self.unsent -= size
        if self.unsent <= self.max_unsent:
            self.room.set()
