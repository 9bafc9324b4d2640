"""jest's and vitest's output: jest's failure headers (a bullet, then the describe blocks and the title
joined by a chevron) with the message after them and `at … (file:line:col)`, its
`Tests: 2 failed, 1 skipped, 3 passed, 6 total` line; vitest's `FAIL  file > describe > test` headers, its
pointer to `file:line:col` and `Tests  2 failed | 3 passed (5)` line.

A failing test is named as jest-junit names it (its describe blocks and title joined by spaces), so the
log and a report name a test alike."""

from __future__ import annotations

import re

from pipelines.testresults.findings import Failure, Findings
from pipelines.testresults.model import TestCounts

TOOL = "jest"
_JEST_HEADER = re.compile(r"^\s{0,4}● (.+?)\s*$")
_VITEST_HEADER = re.compile(r"^\s*(?:FAIL|×|✗)\s+(\S+) > (.+?)(?: \[[^\]]*\])?\s*(?:\d+ms)?$")
_FILE = re.compile(r"^\s*FAIL\s+(\S+)\s*$")
_JEST_AT = re.compile(r"^\s+at .*?\(?([^\s():]+):(\d+):\d+\)?$")
_VITEST_AT = re.compile(r"^\s*❯ ([^\s:]+):(\d+):\d+")
_JEST_TOTALS = re.compile(r"^Tests:\s+(.*\d+ total)")
_VITEST_TOTALS = re.compile(r"^\s*Tests\s+(.*)\(\d+\)\s*$")
_COUNT = re.compile(r"(\d+) (failed|passed|skipped|todo|pending)")
_NOT_A_TEST = "Test suite failed to run"
TRIGGERS = ("●", "FAIL", "×", "✗", "Tests")
"""Text every line holds that `feed` reacts to while `waiting`."""


class JestLog:
    """Reads jest's or vitest's output line by line into the findings."""

    def __init__(self, findings: Findings) -> None:
        self.findings = findings
        self.file = ""
        self.current: Failure | None = None

    def feed(self, pos: int, line: str) -> None:
        """One line of the log (colours removed)."""
        stripped = line.lstrip()
        head = stripped[:1]
        if head == "●" and (match := _JEST_HEADER.match(line)):
            self._header(pos, match.group(1).split(" › "))
        elif head in "F×✗" and (match := _VITEST_HEADER.match(line)):
            self.file = match.group(1)
            self._header(pos, match.group(2).split(" > "))
        elif head == "F" and (match := _FILE.match(line)):
            self.file, self.current = match.group(1), None
        elif head == "T" and (match := _JEST_TOTALS.match(stripped) or _VITEST_TOTALS.match(line)):
            self._totals(match.group(1))
        elif self.current is not None:
            self._detail(self.current, line)

    def waiting(self) -> bool:
        """True when only a line holding one of TRIGGERS could change anything (outside a failure)."""
        return self.current is None

    def _header(self, pos: int, parts: list[str]) -> None:
        title = " ".join(part.strip() for part in parts)
        if title.startswith(_NOT_A_TEST):
            title = self.file or title
        failure = self.findings.fail(title, title, pos, suite=self.file.removeprefix("./"))
        failure.file = failure.file or self.file.removeprefix("./")
        self.current = failure

    def _detail(self, failure: Failure, line: str) -> None:
        if line.startswith(("Test Suites:", "Snapshots:", " Test Files ", "⎯")):
            self.current = None
            return
        failure.add_text(line.rstrip())
        text = line.strip()
        if text and not failure.message:
            failure.message = text
        elif (
            failure.line is None
            and (match := _VITEST_AT.match(line) or _JEST_AT.match(line))
            and "node_modules" not in match.group(1)
        ):
            failure.file, failure.line = match.group(1), int(match.group(2))

    def _totals(self, text: str) -> None:
        numbers = {word: int(number) for number, word in _COUNT.findall(text)}
        skipped = numbers.get("skipped", 0) + numbers.get("todo", 0) + numbers.get("pending", 0)
        counts = TestCounts(passed=numbers.get("passed", 0), failed=numbers.get("failed", 0), skipped=skipped)
        self.findings.add_counts(TOOL, counts)
        self.current = None
