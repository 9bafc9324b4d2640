"""What a runner reports while it runs a stage: step and stage states and numbered log lines (wire models)."""

from __future__ import annotations

from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from pipelines.status import Status


class LogLine(NamedTuple):
    """One line of a step's output: its position in the log, seconds since the step started, the text.

    A named tuple rather than a model or a dataclass: a step may print a million lines, and a tuple is made
    five times faster than a frozen dataclass (pydantic would validate and serialise a model all the same).
    """

    pos: int
    time: float
    out: str


class _Progress(BaseModel):
    """What steps and stages report alike: which one, its status, when it started and ended, what failed."""

    model_config = ConfigDict(extra="forbid")

    number: int
    name: str
    status: Status = Status.PENDING
    started: float | None = None
    finished: float | None = None
    error: str = ""


class StepReport(_Progress):
    """The state of one step as the runner sees it."""

    exit_code: int | None = None
    detached: bool = False


class StageReport(_Progress):
    """The state of a stage and of all its steps."""

    steps: list[StepReport] = Field(default_factory=list)

    def step(self, name: str) -> StepReport:
        """The report of the step with that name."""
        return next(s for s in self.steps if s.name == name)
