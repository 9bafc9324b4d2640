"""`cargo test` (libtest) output: `test path::name ... FAILED`, the `---- path::name stdout ----` sections
with the panic (`panicked at src/lib.rs:7:18:` and the message), and `test result: FAILED. 3 passed; …`."""

from __future__ import annotations

import re

from pipelines.testresults.findings import Failure, Findings
from pipelines.testresults.model import Outcome, TestCounts

TOOL = "cargo"
_RESULT = re.compile(r"^test (\S+) \.\.\. (FAILED|ok|ignored)")
_SECTION = re.compile(r"^---- (\S+) std(?:out|err) ----$")
_PANIC_AT = re.compile(r"panicked at (?:'(.*)', )?([^\s:]+):(\d+):\d+:?$")
_TOTALS = re.compile(r"^test result: \w+\. (\d+) passed; (\d+) failed; (\d+) ignored")
_RUNNING = re.compile(r"^\s+Running (?:unittests )?(\S+)")
TRIGGERS = ("\ntest ", "--- ", "\nfailures:", "Running ")
"""Text every line holds that `feed` reacts to while `waiting` (a leading newline: at the line's start)."""


def _split(path: str) -> tuple[str, str]:
    module, _, name = path.rpartition("::")
    return module, name


class CargoLog:
    """Reads `cargo test` output line by line into the findings."""

    def __init__(self, findings: Findings) -> None:
        self.findings = findings
        self.crate = ""
        self.section: Failure | None = None
        self.want_message = False

    def feed(self, pos: int, line: str) -> None:
        """One line of the log (colours removed)."""
        if line.startswith("test "):
            self._result_or_totals(pos, line)
            return
        if line.startswith("---- ") and (match := _SECTION.match(line)):
            classname, name = _split(match.group(1))
            self.section = self.findings.fail(classname, name, pos, suite=self.crate)
            self.section.log_line = pos
            self.want_message = False
            return
        if line.startswith("failures:"):
            self.section = None
            return
        if "Running " in line[:20] and (match := _RUNNING.match(line)):
            self.crate, self.section = match.group(1), None
            return
        if self.section is not None:
            self._section_line(self.section, line)

    def waiting(self) -> bool:
        """True when only a line holding one of TRIGGERS could change anything (outside a failure)."""
        return self.section is None

    def _result_or_totals(self, pos: int, line: str) -> None:
        if match := _RESULT.match(line):
            if match.group(2) == "FAILED":
                classname, name = _split(match.group(1))
                self.findings.fail(classname, name, pos, Outcome.FAILED, suite=self.crate)
        elif match := _TOTALS.match(line):
            passed, failed, ignored = (int(n) for n in match.groups())
            self.findings.add_counts(TOOL, TestCounts(passed=passed, failed=failed, skipped=ignored))

    def _section_line(self, failure: Failure, line: str) -> None:
        failure.add_text(line)
        if self.want_message and line.strip() and not failure.message:
            failure.message = line.strip()
            self.want_message = False
        elif "panicked at" in line and (match := _PANIC_AT.search(line)):
            old_style_message, file, number = match.groups()
            failure.file, failure.line = failure.file or file, failure.line or int(number)
            if old_style_message:
                failure.message = failure.message or old_style_message
            else:
                self.want_message = not failure.message
