"""`go test` output, plain and `-v` (`--- FAIL: TestX (0.01s)` with its indented lines, `FAIL\tpkg\t0.1s`)
and `-json` (one event per line: run, output, pass, fail, skip)."""

from __future__ import annotations

import json
import re
from collections import deque

from pipelines.testresults.findings import Failure, Findings
from pipelines.testresults.model import Outcome, TestCounts

TOOL = "go"
_RESULT = re.compile(r"^(\s*)--- (FAIL|PASS|SKIP): (\S+) \(([\d.]+)s\)")
_RUN = re.compile(r"^=== (?:RUN|CONT|PAUSE|NAME)\s+(\S+)")
_PACKAGE = re.compile(r"^(?:FAIL|ok)\s+(\S+)\s")
_LOCATED = re.compile(r"^\s+(\S+\.go):(\d+): (.*)$")
TRIGGERS = ('"Action"', "--- ", "\n=", "FAIL", "\nok")
"""Text every line holds that `feed` reacts to while `waiting` (a leading newline: at the line's start)."""
_MAX_HELD = 40
"""Lines of a running test's output held until it ends (only the last ones are kept)."""


def _locate(failure: Failure, text: str) -> None:
    """Take the file, line and message from the first `file.go:12: message` line of a failure."""
    if failure.file:
        return
    if match := _LOCATED.match(text):
        failure.file, failure.line, failure.message = match.group(1), int(match.group(2)), match.group(3)


class GoLog:
    """Reads `go test` output line by line into the findings (plain, `-v` and `-json`)."""

    def __init__(self, findings: Findings) -> None:
        self.findings = findings
        self.held: dict[str, deque[str]] = {}
        self.reading: Failure | None = None
        self.depth = 0
        self.pending: list[Failure] = []
        self.tally = {"PASS": 0, "FAIL": 0, "SKIP": 0}
        self.json_tally = {"pass": 0, "fail": 0, "skip": 0}
        self.verbose = False
        """`-v` output names every test run; plain output only the failures (no counts then)."""

    def feed(self, pos: int, line: str) -> None:
        """One line of the log (colours removed)."""
        if line.startswith('{"') and '"Action"' in line:
            self._event(pos, line)
            return
        if "--- " in line[:40] and (match := _RESULT.match(line)):
            self._result(pos, match)
            return
        if line.startswith("=== ") and (match := _RUN.match(line)):
            self.reading, self.verbose = None, True
            self.held[match.group(1)] = deque(maxlen=_MAX_HELD)
            return
        if line.startswith(("FAIL", "ok ")) and (match := _PACKAGE.match(line)):
            self._package(match.group(1))
            return
        self._output(line)

    def waiting(self) -> bool:
        """True when only a line holding one of TRIGGERS could change anything (no test running)."""
        return self.reading is None and not self.held

    def _output(self, line: str) -> None:
        if self.reading is not None and line.startswith(" " * (self.depth + 4)):
            self.reading.add_text(line.strip())
            _locate(self.reading, line)
            return
        self.reading = None
        if self.held and line.startswith("    "):
            for lines in self.held.values():  # -v: a test's lines come before its result
                lines.append(line)

    def _result(self, pos: int, match: re.Match[str]) -> None:
        indent, word, name, seconds = match.groups()
        self.tally[word] += 1
        held = self.held.pop(name, None)
        self.reading = None
        if word != "FAIL":
            return
        failure = self.findings.fail("", name, pos)
        failure.duration = float(seconds)
        self.pending.append(failure)
        for text in held or ():
            failure.add_text(text.strip())
            _locate(failure, text)
        self.reading, self.depth = failure, len(indent)

    def _package(self, package: str) -> None:
        """`FAIL\tpkg\t0.1s` ends a package: its failures get its name as their class."""
        for failure in self.pending:
            self._rename(failure, package)
        self.pending.clear()
        self.held.clear()
        self.reading = None

    def _rename(self, failure: Failure, package: str) -> None:
        self.findings.failures.pop((failure.classname, failure.name), None)
        failure.classname = failure.suite = package
        self.findings.failures.setdefault((package, failure.name), failure)

    def _event(self, pos: int, line: str) -> None:
        try:
            event = json.loads(line)
        except ValueError:
            return
        if not isinstance(event, dict):
            return
        test, action, package = event.get("Test"), event.get("Action"), str(event.get("Package", ""))
        if not isinstance(test, str):
            return
        if action == "run":
            self.held[f"{package}\x00{test}"] = deque(maxlen=_MAX_HELD)
        elif action == "output":
            lines = self.held.get(f"{package}\x00{test}")
            output = str(event.get("Output", "")).rstrip("\n")
            if lines is not None and not _RESULT.match(output) and not _RUN.match(output):
                lines.append(output)
        elif action in self.json_tally:
            self.json_tally[action] += 1
            held = self.held.pop(f"{package}\x00{test}", None)
            if action == "fail":
                failure = self.findings.fail(package, test, pos, Outcome.FAILED, suite=package)
                elapsed = event.get("Elapsed")
                failure.duration = float(elapsed) if isinstance(elapsed, int | float) else None
                for text in held or ():
                    failure.add_text(text.strip())
                    _locate(failure, text)

    def finish(self) -> None:
        """The counts: of `--- X:` lines (plain output shows failures only), or of `-json` events."""
        for failure in self.pending:
            failure.suite = failure.suite or failure.classname
        if any(self.json_tally.values()):
            tally = self.json_tally
            self.findings.add_counts(
                TOOL, TestCounts(passed=tally["pass"], failed=tally["fail"], skipped=tally["skip"])
            )
        elif self.verbose:
            tally = self.tally
            self.findings.add_counts(
                TOOL, TestCounts(passed=tally["PASS"], failed=tally["FAIL"], skipped=tally["SKIP"])
            )
