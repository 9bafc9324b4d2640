"""Zero-configuration test results: the failing tests of pytest, `go test` (plain, `-v`, `-json`),
`cargo test`, jest/vitest and Maven Surefire recognised from a step's own log. Pure: lines in, results out.

Feed lines as they come (`Recogniser.feed`), then `finish`; memory stays bounded whatever the log holds.
Each failure keeps the position of the log line that reported it, so the page links to it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from pipelines.testresults.findings import Findings, plain
from pipelines.testresults.logs.cargo_log import CargoLog
from pipelines.testresults.logs.go_log import GoLog
from pipelines.testresults.logs.jest_log import JestLog
from pipelines.testresults.logs.pytest_log import PytestLog
from pipelines.testresults.logs.surefire_log import SurefireLog
from pipelines.testresults.model import TestCase, TestCounts

MAX_LINE = 4_000
"""Characters of a line looked at: a longer one is no test tool's report line."""


class _Tool(Protocol):
    def feed(self, pos: int, line: str) -> None: ...


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
