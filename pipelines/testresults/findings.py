"""What log recognisers find: failing tests (by class and name, first seen first) and the tools' counts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipelines.testresults.model import (
    MAX_MESSAGE,
    MAX_NAME,
    MAX_TEXT,
    Outcome,
    TestCase,
    TestCounts,
    clip,
)

MAX_CASES = 5_000
"""Failing tests kept per step: a log cannot make the runner hold more."""
MAX_TEXT_LINES = 60
"""Lines of a failure's text kept from the log."""
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def plain(text: str) -> str:
    """The line without terminal colours and carriage-return redraws, as a person reads it."""
    if "\x1b" in text:
        text = _ANSI.sub("", text)
    if "\r" in text:
        text = text.rstrip("\r").rsplit("\r", 1)[-1]
    return text


@dataclass(slots=True)
class Failure:
    """A failing test as a log tells it, filled in as more lines arrive."""

    classname: str
    name: str
    outcome: Outcome
    log_line: int
    suite: str = ""
    message: str = ""
    file: str = ""
    line: int | None = None
    duration: float | None = None
    text: list[str] = field(default_factory=list)

    def add_text(self, line: str) -> None:
        """One more line of the failure's text (bounded)."""
        if len(self.text) < MAX_TEXT_LINES:
            self.text.append(line)

    def case(self) -> TestCase:
        """The failure as a test case record."""
        text = "\n".join(self.text).strip("\n")
        return TestCase(
            suite=clip(self.suite, MAX_NAME),
            classname=clip(self.classname, MAX_NAME),
            name=clip(self.name, MAX_NAME),
            file=clip(self.file, MAX_NAME),
            line=self.line,
            outcome=self.outcome,
            duration=self.duration,
            message=clip(self.message.strip(), MAX_MESSAGE),
            text=clip(text, MAX_TEXT),
            log_line=self.log_line,
        )


class Findings:
    """The failures found so far (one per test, the first report of it kept) and counts per tool."""

    def __init__(self) -> None:
        self.failures: dict[tuple[str, str], Failure] = {}
        self.counts: dict[str, TestCounts] = {}
        self.full = False

    def fail(
        self, classname: str, name: str, pos: int, outcome: Outcome = Outcome.FAILED, suite: str = ""
    ) -> Failure:
        """The record of this failing test, made at `pos` when it is new."""
        key = (classname, name)
        found = self.failures.get(key)
        if found is None:
            found = Failure(classname, name, outcome, pos, suite)
            if len(self.failures) < MAX_CASES:
                self.failures[key] = found
            else:
                self.full = True
        return found

    def find(self, classname: str, name: str) -> Failure | None:
        """The failure already recorded for this test."""
        return self.failures.get((classname, name))

    def add_counts(self, tool: str, counts: TestCounts) -> None:
        """A tool's summary of one run (several runs of a tool in a step add up)."""
        before = self.counts.get(tool)
        self.counts[tool] = counts if before is None else before + counts
