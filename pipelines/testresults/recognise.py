"""Zero-configuration test results: the failing tests of pytest, `go test` (plain, `-v`, `-json`),
`cargo test`, jest/vitest and Maven Surefire recognised from a step's own log. Pure: lines in, results out.

Feed lines as they come (`Recogniser.feed`), then `finish`; memory stays bounded whatever the log holds.
Each failure keeps the position of the log line that reported it, so the page links to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from pipelines.testresults.findings import Findings, plain
from pipelines.testresults.logs import cargo_log, go_log, jest_log, pytest_log, surefire_log
from pipelines.testresults.logs.cargo_log import CargoLog
from pipelines.testresults.logs.go_log import GoLog
from pipelines.testresults.logs.jest_log import JestLog
from pipelines.testresults.logs.pytest_log import PytestLog
from pipelines.testresults.logs.surefire_log import SurefireLog
from pipelines.testresults.model import TestCase, TestCounts
from pipelines.testresults.prefilter import BatchSearch, TriggerSearch

MAX_LINE = 4_000
"""Characters of a line looked at: a longer one is no test tool's report line."""
_TRIGGERS = TriggerSearch(
    (
        *("\x1b", "\r"),  # colours and redraws: `plain` changes the line
        *pytest_log.TRIGGERS,
        *go_log.TRIGGERS,
        *cargo_log.TRIGGERS,
        *jest_log.TRIGGERS,
        *surefire_log.TRIGGERS,
    )
)


class _Tool(Protocol):
    def feed(self, pos: int, line: str) -> None: ...

    def waiting(self) -> bool: ...


@dataclass(frozen=True)
class Recognised:
    """The failing tests found in a log, and the counts its tools printed (None when none did)."""

    cases: list[TestCase] = field(default_factory=list)
    counts: TestCounts | None = None

    def __bool__(self) -> bool:
        return bool(self.cases) or self.counts is not None


class Recogniser:
    """Reads one step's log, line by line."""

    def __init__(self) -> None:
        self.findings = Findings()
        self.tools: list[_Tool] = [
            PytestLog(self.findings),
            GoLog(self.findings),
            CargoLog(self.findings),
            JestLog(self.findings),
            SurefireLog(self.findings),
        ]

    def feed(self, pos: int, text: str) -> None:
        """Line `pos` (from 0) of the log."""
        line = plain(text[:MAX_LINE]).rstrip()
        for tool in self.tools:
            tool.feed(pos, line)

    def feed_batch(self, first: int, texts: Sequence[str]) -> None:
        """Lines `first`, `first + 1`… of the log, in order: the same as feeding each, but the lines no
        tool would react to are skipped (found by searching the whole batch at once)."""
        search: BatchSearch | None = None
        index, count = 0, len(texts)
        pytest, go, cargo, jest, surefire = self.tools
        while index < count:
            if (
                pytest.waiting()
                and go.waiting()
                and cargo.waiting()
                and jest.waiting()
                and surefire.waiting()
            ):
                if search is None:
                    search = _TRIGGERS.start(texts)
                index = search.next_line(index)
                if index >= count:
                    return
            self.feed(first + index, texts[index])
            index += 1

    def feed_many(self, lines: Iterable[tuple[int, str]]) -> None:
        """Several lines, in order."""
        for pos, text in lines:
            self.feed(pos, text)

    def finish(self) -> Recognised:
        """What the log said."""
        for tool in self.tools:
            end = getattr(tool, "finish", None)
            if end is not None:
                end()
        cases = sorted((f.case() for f in self.findings.failures.values()), key=_by_position)
        counts = None
        if self.findings.counts:
            counts = sum(self.findings.counts.values(), TestCounts())
        return Recognised(cases, counts)


def recognise(lines: Iterable[tuple[int, str]]) -> Recognised:
    """The failing tests and counts of a whole log given as (position, text) pairs."""
    recogniser = Recogniser()
    recogniser.feed_many(lines)
    return recogniser.finish()


def _by_position(case: TestCase) -> int:
    return case.log_line if case.log_line is not None else 0
