"""A step's queued lines are taken as batches of consecutive positions within the limits."""

from __future__ import annotations

import itertools
import random

import pytest

from pipelines.report import LogLine
from runner.log_batches import QueuedLines, batch_at, plain


def reference_batch(outbox: list[list[LogLine]], max_lines: int, max_bytes: int) -> list[tuple[float, str]]:
    """A batch as taken line by line: consecutive positions, within the limits, one line at least."""
    first = outbox[0][0].pos
    lines: list[tuple[float, str]] = []
    size = 0
    for line in itertools.chain.from_iterable(outbox):
        size += len(line.out) + 16
        if line.pos != first + len(lines) or (lines and (len(lines) >= max_lines or size > max_bytes)):
            break
        lines.append((line.time, line.out))
    return lines


@pytest.mark.parametrize("seed", range(60))
def test_a_batch_takes_consecutive_lines_within_the_limits_as_taken_line_by_line(seed: int) -> None:
    randoms = random.Random(seed)
    max_lines, max_bytes = randoms.randint(1, 30), randoms.randint(1, 400)
    position, items = randoms.randint(0, 5), []
    for _ in range(randoms.randint(1, 5)):
        lines = []
        for _ in range(randoms.randint(1, 15)):
            position += randoms.choice([1] * 20 + [2, 0])  # now and then a gap, or a position repeated
            lines.append(LogLine(position, 0.1, "y" * randoms.randint(0, 40)))
        items.append(lines)
    outbox: list[object] = [QueuedLines(1, plain(lines)) for lines in items]
    batch, _after, _size = batch_at(outbox, 0, max_lines, max_bytes)
    assert batch.first == items[0][0].pos
    assert batch.lines == reference_batch(items, max_lines, max_bytes)


def test_a_batch_ends_at_another_step_and_says_where_the_next_one_starts() -> None:
    outbox: list[object] = [
        QueuedLines(1, [LogLine(0, 0.1, "a"), LogLine(1, 0.1, "b")]),
        QueuedLines(1, [LogLine(2, 0.2, "c")]),
        QueuedLines(2, [LogLine(0, 0.3, "other step")]),
    ]
    batch, after, size = batch_at(outbox, 0, 100, 1000)
    assert (batch.step, batch.first, batch.lines) == (1, 0, [(0.1, "a"), (0.1, "b"), (0.2, "c")])
    assert (after, size) == (2, 3 * 17)
    assert batch_at(outbox, 0, 2, 1000)[1] is None  # the limit falls before an item taken whole
