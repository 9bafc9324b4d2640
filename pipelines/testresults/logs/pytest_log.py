"""pytest's terminal output: the FAILURES and ERRORS sections, the short summary (`FAILED nodeid - message`),
`-v` result lines, and the closing `== 2 failed, 38 passed in 1.2s ==` line."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipelines.testresults.findings import Findings
from pipelines.testresults.model import Outcome, TestCounts

TOOL = "pytest"
_SUMMARY = re.compile(r"^(FAILED|ERROR) (\S+)(?: - (.*))?$")
_VERBOSE = re.compile(r"^(\S+::\S+) (FAILED|ERROR)\b")
_BANNER = re.compile(r"^=+ (.+?) =+$")
_SECTION = re.compile(r"^_{3,} (.+?) _{3,}$")
_LOCATION = re.compile(r"^(\S+\.py):(\d+): (\w+(?:\.\w+)*)$")
_CLOSING = re.compile(r"^(?:\d+ \w+(?:, )?)+ in [\d.]+s\b")
_COUNT = re.compile(r"(\d+) (passed|failed|skipped|errors?|xfailed|xpassed)\b")
_SETUP = re.compile(r"^ERROR at (?:setup|teardown) of ")
TRIGGERS = ("\n=", "FAIL", "ERROR")  # `::` lines count when FAILED or ERROR
"""Text every line holds that `feed` reacts to while `waiting` (a leading newline: at the line's start)."""


@dataclass(slots=True)
class _Section:
    """One test's part of the FAILURES (or ERRORS) section."""

    pos: int
    error: bool
    message: str = ""
    file: str = ""
    line: int | None = None
    text: list[str] = field(default_factory=list)
    used: bool = False


def split_nodeid(nodeid: str) -> tuple[str, str, str]:
    """A node id as pytest's JUnit report names it: (class name, test name, file)."""
    path, _, rest = nodeid.partition("::")
    module = path.removesuffix(".py").replace("/", ".").strip(".")
    if not rest:
        return module, path, path
    *classes, name = rest.split("::")
    return ".".join([module, *classes]), name, path


class PytestLog:
    """Reads pytest's output line by line into the findings."""

    def __init__(self, findings: Findings) -> None:
        self.findings = findings
        self.sections: dict[str, _Section] = {}
        self.in_failures = False
        self.current: _Section | None = None

    def feed(self, pos: int, line: str) -> None:
        """One line of the log (colours removed)."""
        first = line[:1]
        if first == "=":
            self._banner(line)
            return
        if self.in_failures:
            self._section_line(pos, line)
            return
        if first in "FE" and (match := _SUMMARY.match(line)):
            self._failed(pos, match.group(1), match.group(2), match.group(3) or "")
        elif "::" in line and (match := _VERBOSE.match(line)):
            self._failed(pos, match.group(2), match.group(1), "")

    def waiting(self) -> bool:
        """True when only a line holding one of TRIGGERS could change anything (outside FAILURES)."""
        return not self.in_failures

    def _banner(self, line: str) -> None:
        match = _BANNER.match(line)
        if match is None:
            return
        title = match.group(1)
        self.in_failures = title in ("FAILURES", "ERRORS")
        self.current = None
        if _CLOSING.match(title):
            self._closing(title)

    def _closing(self, title: str) -> None:
        numbers = {word: int(number) for number, word in _COUNT.findall(title)}
        self.findings.add_counts(
            TOOL,
            TestCounts(
                passed=numbers.get("passed", 0) + numbers.get("xpassed", 0),
                failed=numbers.get("failed", 0),
                errors=numbers.get("error", 0) + numbers.get("errors", 0),
                skipped=numbers.get("skipped", 0) + numbers.get("xfailed", 0),
            ),
        )

    def _section_line(self, pos: int, line: str) -> None:
        if line.startswith("___") and (match := _SECTION.match(line)):
            title = match.group(1)
            error = bool(_SETUP.match(title))
            name = _SETUP.sub("", title)
            self.current = self.sections.setdefault(name, _Section(pos, error))
            return
        section = self.current
        if section is None:
            return
        if len(section.text) < 60:
            section.text.append(line)
        if line.startswith("E ") and not section.message:
            section.message = line[1:].strip()
        elif match := _LOCATION.match(line):
            section.file, section.line = match.group(1), int(match.group(2))

    def _failed(self, pos: int, word: str, nodeid: str, message: str) -> None:
        classname, name, path = split_nodeid(nodeid)
        outcome = Outcome.ERROR if word == "ERROR" else Outcome.FAILED
        short = ".".join(nodeid.split("::")[1:]) or nodeid
        section = self.sections.get(short)
        failure = self.findings.fail(classname, name, section.pos if section else pos, outcome)
        failure.file = failure.file or path
        if section is not None:
            section.used = True
            failure.log_line = section.pos
            failure.file = section.file or failure.file
            failure.line = failure.line or section.line
            if not failure.text:
                failure.text = list(section.text)
            message = message or section.message
        failure.message = failure.message or message

    def finish(self) -> None:
        """Sections no summary line named (pytest run with `-rN`) are failures all the same."""
        for name, section in self.sections.items():
            if section.used:
                continue
            module = section.file.removesuffix(".py").replace("/", ".")
            *classes, test = name.split(".") if "[" not in name else [name]
            classname = ".".join([module, *classes]).strip(".")
            outcome = Outcome.ERROR if section.error else Outcome.FAILED
            failure = self.findings.fail(classname, test, section.pos, outcome)
            failure.file, failure.line, failure.message = section.file, section.line, section.message
            failure.text = list(section.text)
