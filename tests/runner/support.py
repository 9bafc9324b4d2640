"""Helpers for runner tests: a Reporter that records everything, and Plans from YAML text."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from pipelines import BuildContext, Plan, Repo, compile_file
from pipelines.report import LogLine, StageReport, StepReport
from pipelines.runner_api import TestBatch
from pipelines.status import Status


class RecordingReporter:
    """Keeps every state change and every log line, per step."""

    def __init__(self) -> None:
        self.lines: dict[str, list[LogLine]] = defaultdict(list)
        self.history: dict[str, list[Status]] = defaultdict(list)
        self.stage_history: list[Status] = []
        self.tests: dict[str, list[TestBatch]] = defaultdict(list)

    async def stage_updated(self, stage: StageReport) -> None:
        """Record the stage's status."""
        self.stage_history.append(stage.status)

    async def step_updated(self, step: StepReport) -> None:
        """Record the step's status."""
        self.history[step.name].append(step.status)

    async def step_output(self, step: StepReport, lines: Sequence[LogLine]) -> None:
        """Record the lines."""
        self.lines[step.name].extend(lines)

    async def step_tests(self, step: StepReport, batch: TestBatch) -> None:
        """Record the test results."""
        self.tests[step.name].append(batch)

    def text(self, step: str) -> list[str]:
        """The step's log as text lines."""
        return [line.out for line in self.lines[step]]


def plan_of(text: str, *, event: str = "push", branch: str = "main", trusted: bool = False) -> Plan:
    """The first Plan of a pipeline file, compiled for a push to main."""
    context = BuildContext(
        repo=Repo(owner="octo", name="hello", remote_url="https://example.invalid/octo/hello.git"),
        event=event,
        branch=branch,
        ref=f"refs/heads/{branch}",
        sha="0" * 40,
        number=1,
        trusted=trusted,
    )
    return compile_file(text, context, ".ci.yml").plans[0]
