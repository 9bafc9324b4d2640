"""The test results a step reports: one record per test case, and the counts of a step (wire models)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

MAX_MESSAGE = 2_000
"""Characters of a failure's message kept (its first line is what lists show)."""
MAX_TEXT = 16_000
"""Characters of a failure's text (a stack trace, an assertion's diff) kept: its end is cut."""
MAX_NAME = 500


class Outcome(StrEnum):
    """How one test case ended."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"

    @property
    def is_failed(self) -> bool:
        """True for the outcomes that make a test red."""
        return self in (Outcome.FAILED, Outcome.ERROR)


class TestSource(StrEnum):
    """Where results came from: report files, or the step's own log."""

    __test__ = False  # not a pytest class

    REPORT = "report"
    LOG = "log"


class TestCase(BaseModel):
    """One test case's result."""

    model_config = ConfigDict(extra="ignore")
    __test__ = False  # not a pytest class

    suite: str = Field(default="", max_length=MAX_NAME)
    classname: str = Field(default="", max_length=MAX_NAME)
    name: str = Field(max_length=MAX_NAME)
    file: str = Field(default="", max_length=MAX_NAME)
    line: int | None = None
    outcome: Outcome
    duration: float | None = None
    message: str = Field(default="", max_length=MAX_MESSAGE)
    text: str = Field(default="", max_length=MAX_TEXT)
    log_line: int | None = None
    """The position (from 0) of the step's log line where it was reported, when it came from the log."""

    @property
    def key(self) -> str:
        """The test's identity across builds: a short hash of its class (or suite) and name."""
        return case_key(self.classname or self.suite, self.name)

    @property
    def title(self) -> str:
        """How people name it: `test_login` or `tests/test_auth.py::test_login`."""
        return self.name


def case_key(group: str, name: str) -> str:
    """A stable id for a test (16 hex digits), the same in every build that runs it."""
    return hashlib.sha256(f"{group}\x00{name}".encode()).hexdigest()[:16]


class TestCounts(BaseModel):
    """How many tests passed, failed, errored and were skipped."""

    model_config = ConfigDict(extra="ignore")
    __test__ = False

    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        """Every test counted."""
        return self.passed + self.failed + self.errors + self.skipped

    @property
    def failing(self) -> int:
        """Tests that failed or errored."""
        return self.failed + self.errors

    def __add__(self, other: TestCounts) -> TestCounts:
        return TestCounts(
            passed=self.passed + other.passed,
            failed=self.failed + other.failed,
            errors=self.errors + other.errors,
            skipped=self.skipped + other.skipped,
        )

    def describe(self) -> str:
        """`38 passed, 2 failed, 1 skipped` (errors counted with the failures)."""
        return f"{self.passed} passed, {self.failing} failed, {self.skipped} skipped"


def count(cases: Iterable[TestCase]) -> TestCounts:
    """The counts of these cases."""
    tally = dict.fromkeys(Outcome, 0)
    for case in cases:
        tally[case.outcome] += 1
    return TestCounts(
        passed=tally[Outcome.PASSED],
        failed=tally[Outcome.FAILED],
        errors=tally[Outcome.ERROR],
        skipped=tally[Outcome.SKIPPED],
    )


def clip(text: str, limit: int) -> str:
    """The text cut to `limit` characters (an ellipsis says it was)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_line(text: str) -> str:
    """The first non-blank line of a message."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")
