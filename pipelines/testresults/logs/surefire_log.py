"""Maven Surefire's console output: `[ERROR] pkg.Class.method -- Time elapsed: 0.01 s <<< FAILURE!` (3.x) or
`[ERROR] method(pkg.Class)  Time elapsed: 0.01 s  <<< ERROR!` (2.x), the exception line after it, its stack
frames, and the per-class `Tests run: 6, Failures: 2, Errors: 0, Skipped: 1, Time elapsed: ...` lines."""

from __future__ import annotations

import re

from pipelines.testresults.findings import Failure, Findings
from pipelines.testresults.model import Outcome, TestCounts

TOOL = "surefire"
_LEVEL = re.compile(r"^\[(?:ERROR|INFO|WARNING|WARN)\] ")
_NEW = re.compile(r"^(\S+)\.([^.\s]+) -- Time elapsed: ([\d.,]+) s <<< (FAILURE|ERROR)!")
_OLD = re.compile(r"^([^(\s]+)\((\S+)\)\s+Time elapsed: ([\d.,]+) (?:s|sec)\s+<<< (FAILURE|ERROR)!")
_CLASS_TOTALS = re.compile(
    r"^Tests run: (\d+), Failures: (\d+), Errors: (\d+), Skipped: (\d+), Time elapsed: .* in \S+"
)
_FRAME = re.compile(r"^\s+at (\S+)\.([^.(\s]+)\(([^:()]+):(\d+)\)")
TRIGGERS = ("<<< ", "Tests run: ")
"""Text every line holds that `feed` reacts to while `waiting`."""


class SurefireLog:
    """Reads Surefire's output line by line into the findings."""

    def __init__(self, findings: Findings) -> None:
        self.findings = findings
        self.current: Failure | None = None

    def feed(self, pos: int, line: str) -> None:
        """One line of the log (colours removed)."""
        text = _LEVEL.sub("", line, count=1) if line.startswith("[") else line
        if "<<< " in text:
            if match := _NEW.match(text):
                self._failure(pos, match.group(1), match.group(2), match.group(3), match.group(4))
                return
            if match := _OLD.match(text):
                self._failure(pos, match.group(2), match.group(1), match.group(3), match.group(4))
                return
        if text.startswith("Tests run: ") and (match := _CLASS_TOTALS.match(text)):
            run, failures, errors, skipped = (int(n) for n in match.groups())
            passed = max(0, run - failures - errors - skipped)
            counts = TestCounts(passed=passed, failed=failures, errors=errors, skipped=skipped)
            self.findings.add_counts(TOOL, counts)
            self.current = None
            return
        if self.current is not None:
            self._detail(self.current, line)

    def waiting(self) -> bool:
        """True when only a line holding one of TRIGGERS could change anything (outside a failure)."""
        return self.current is None

    def _failure(self, pos: int, classname: str, name: str, seconds: str, word: str) -> None:
        outcome = Outcome.ERROR if word == "ERROR" else Outcome.FAILED
        failure = self.findings.fail(classname, name, pos, outcome, suite=classname)
        failure.duration = float(seconds.replace(",", ""))
        self.current = failure

    def _detail(self, failure: Failure, line: str) -> None:
        if not line.strip() or line.startswith("["):
            self.current = None
            return
        failure.add_text(line)
        if not failure.message:
            failure.message = line.strip()
        elif (
            not failure.file
            and (match := _FRAME.match(line))
            and (match.group(1), match.group(2)) == (failure.classname, failure.name)
        ):
            failure.file, failure.line = match.group(3), int(match.group(4))
