"""Problems found in a pipeline file, and the error that carries them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    """How bad a problem is: errors stop a build, warnings do not."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a pipeline file, located at a line and column (both 1-based, 0 = unknown)."""

    severity: Severity
    message: str
    file: str = ""
    line: int = 0
    column: int = 0
    path: str = ""
    hint: str = ""

    @property
    def is_error(self) -> bool:
        """True for problems that make the file unusable."""
        return self.severity is Severity.ERROR

    def format(self) -> str:
        """Render as `file:line:col: severity: path: message (hint)`, the form editors understand."""
        where = f"{self.file or '<input>'}:{self.line}:{self.column}"
        text = f"{where}: {self.severity.value}: "
        if self.path:
            text += f"{self.path}: "
        text += self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def to_dict(self) -> dict[str, str | int]:
        """A JSON-ready form, for APIs and `--json` output."""
        return {
            "severity": self.severity.value,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "hint": self.hint,
        }


class ConfigError(Exception):
    """A pipeline file that cannot be used; `problems` says where and why."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.is_error] or problems
        super().__init__("\n".join(p.format() for p in errors))

    @property
    def first(self) -> Problem:
        """The first error, for one-line summaries (a build's error message)."""
        return next((p for p in self.problems if p.is_error), self.problems[0])


def errors_in(problems: list[Problem]) -> list[Problem]:
    """Only the problems that are errors."""
    return [p for p in problems if p.is_error]
