"""A log fed in batches (lines no tool reacts to skipped) gives exactly what feeding it line by line does."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pipelines.testresults.prefilter import TriggerSearch
from pipelines.testresults.recognise import Recognised, Recogniser

FIXTURES = Path(__file__).parent / "fixtures"
LOGS = sorted(path.name for path in FIXTURES.glob("*.log"))
FILLER = ["", "   ", "000000001 xxxx", "building target 12", "\tcompiling module.c", "  at some.place"]


def _line_by_line(lines: list[str]) -> Recognised:
    recogniser = Recogniser()
    for pos, text in enumerate(lines):
        recogniser.feed(pos, text)
    return recogniser.finish()


def _in_batches(lines: list[str], size: int) -> Recognised:
    recogniser = Recogniser()
    for first in range(0, len(lines), size):
        recogniser.feed_batch(first, lines[first : first + size])
    return recogniser.finish()


@pytest.mark.parametrize("name", LOGS)
@pytest.mark.parametrize("size", [1, 2, 7, 5000])
def test_batches_find_what_lines_do(name: str, size: int) -> None:
    lines = (FIXTURES / name).read_text().splitlines()
    found = _in_batches(lines, size)
    assert found
    assert found == _line_by_line(lines)


@pytest.mark.parametrize("seed", range(20))
def test_mixed_logs_with_noise_and_colours(seed: int) -> None:
    """Every fixture's lines shuffled in among filler, some coloured or redrawn, in random batches."""
    chance = random.Random(seed)
    lines: list[str] = []
    for name in LOGS:
        for text in (FIXTURES / name).read_text().splitlines():
            lines.extend(chance.choice(FILLER) for _ in range(chance.randrange(3)))
            roll = chance.random()
            lines.append(f"\x1b[31m{text}\x1b[0m" if roll < 0.1 else f"x\r{text}" if roll < 0.2 else text)
    found = _line_by_line(lines)
    recogniser, first = Recogniser(), 0
    while first < len(lines):
        size = chance.randrange(1, 300)
        recogniser.feed_batch(first, lines[first : first + size])
        first += size
    assert recogniser.finish() == found


def test_a_line_at_the_start_of_a_batch_or_after_its_last_trigger_is_found() -> None:
    search = TriggerSearch(["\nok", "::"]).start(["ok go", "plain", "a::b", "plain", "ok", "plain"])
    assert [search.next_line(index) for index in range(6)] == [0, 2, 2, 4, 4, 6]


def test_a_batch_without_triggers_is_skipped_whole() -> None:
    lines = [f"{number:09d} " + "x" * 89 for number in range(1000)]
    assert _in_batches(lines, 1000) == Recognised()
