"""The Reporter protocol: where the executor sends step states and log lines as they happen."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pipelines.report import LogLine, StageReport, StepReport
from pipelines.runner_api import TestBatch


class Reporter(Protocol):
    """Receives a stage's progress: `hangar exec` prints it, the runner daemon sends it to the server."""

    async def stage_updated(self, stage: StageReport) -> None:
        """The stage changed state (started, finished)."""

    async def step_updated(self, step: StepReport) -> None:
        """A step changed state (running, finished, skipped)."""

    async def step_output(self, step: StepReport, lines: Sequence[LogLine]) -> None:
        """New, already masked lines of a step's log, in order; awaiting applies back-pressure."""

    async def step_tests(self, step: StepReport, batch: TestBatch) -> None:
        """A finished step's test results (masked), sent before its final state."""
