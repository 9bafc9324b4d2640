"""A step's queued log lines taken as LogBatches: consecutive positions, within a request's limits."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from operator import itemgetter
from typing import cast

from pipelines.report import LogLine
from pipelines.runner_api import LogBatch

LINE_OVERHEAD = 16
"""Bytes counted per line beside its text: its position and time in the batch."""

_POS, _TIME, _TEXT = itemgetter(0), itemgetter(1), itemgetter(2)  # of a Line

Line = tuple[int, float, str]
"""A LogLine held in an outbox, as a plain tuple (position, seconds, text): the garbage collector stops
tracking a plain tuple of an int, a float and a str, whereas it walks every NamedTuple at each full collection
(a big log holds hundreds of thousands of lines while the server takes them)."""


def plain(lines: Sequence[LogLine]) -> list[Line]:
    """The lines as plain tuples."""
    return cast(list[Line], list(map(tuple, lines)))


@dataclass
class QueuedLines:
    """Lines of one step waiting in a reporter's outbox, with consecutive positions."""

    step: int
    lines: list[Line]


def lines_size(lines: Sequence[Line]) -> int:
    """The bytes lines count for in a batch (their text and LINE_OVERHEAD each)."""
    return sum(map(len, map(_TEXT, lines))) + LINE_OVERHEAD * len(lines)


def log_batch(step: int, first: int, lines: list[tuple[float, str]]) -> LogBatch:
    """A LogBatch of lines made here (typed already): not validated again, line by line."""
    return LogBatch.model_construct(step=step, first=first, lines=lines)


def batch_at(
    outbox: Sequence[object], start: int, max_lines: int, max_bytes: int
) -> tuple[LogBatch, int | None, int]:
    """Consecutive lines of one step from outbox item `start` (a QueuedLines) on, within the limits; the index
    of the item after the last one taken whole (None when the batch ends inside an item); the batch's size."""
    head = outbox[start]
    assert isinstance(head, QueuedLines)
    step, first = head.step, head.lines[0][0]
    lines: list[tuple[float, str]] = []
    size = 0
    for index in range(start, len(outbox)):
        item = outbox[index]
        if not isinstance(item, QueuedLines) or item.step != step:
            return log_batch(step, first, lines), index, size
        taken, added = take(item.lines, first + len(lines), len(lines), size, max_lines, max_bytes)
        lines += taken
        size += added
        if len(taken) < len(item.lines):
            return log_batch(step, first, lines), None, size
    return log_batch(step, first, lines), len(outbox), size


def take(
    item: list[Line], expected: int, count: int, size: int, max_lines: int, max_bytes: int
) -> tuple[list[tuple[float, str]], int]:
    """The (time, text) of an item's first lines that join a batch of `count` lines and `size` bytes ending
    before position `expected` (consecutive, within the limits; a batch has one line at least), and their
    size. Whole runs at a time (a batch is thousands of lines), line by line only across a gap."""
    positions = list(map(_POS, item))
    if positions != list(range(expected, expected + len(item))):  # a gap: up to it
        run = 0
        while run < len(item) and positions[run] == expected + run:
            run += 1
        if not run:
            return [], 0
        item = item[:run]
    texts = list(map(_TEXT, item[: max(0, max_lines - count)] if count else item))
    costs = list(accumulate(map(LINE_OVERHEAD.__add__, map(len, texts))))
    fits = bisect_right(costs, max_bytes - size)
    if not count:
        fits = max(fits, 1)
        fits = min(fits, max_lines, len(item))
    return list(zip(map(_TIME, item[:fits]), texts[:fits], strict=True)), costs[fits - 1] if fits else 0
