"""Step logs: a container's raw output as numbered, timed, masked lines, handed to the reporter in batches."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable
from itertools import repeat

from pipelines.masking import Masker
from pipelines.report import LogLine, StepReport
from pipelines.testresults.recognise import Recognised, Recogniser
from runner.engine import EngineError
from runner.lines import LineSplitter
from runner.reporter import Reporter

_new_tuple = tuple.__new__


class StepLogs:
    """Numbers every step's lines from 0, stamps them with seconds since the step started, masks secrets."""

    def __init__(self, reporter: Reporter, secrets: Iterable[str]) -> None:
        self.reporter = reporter
        self.masker = Masker(secrets)
        self.positions: dict[str, int] = {}
        self.recognisers: dict[str, Recogniser] = {}
        """Per step, the failing tests its log shows so far (pytest, go test, cargo, jest, Surefire)."""

    async def write(self, report: StepReport, texts: list[str]) -> None:
        """Send these lines of the step's log (one batch, in order)."""
        if not texts:
            return
        offset = round(time.time() - (report.started or time.time()), 3)
        first = self.positions.get(report.name, 0)
        masked = self.masker.mask_lines(texts)
        # tuple.__new__ makes the LogLines LogLine(...) would, without its Python-level __new__: half the cost
        positions = range(first, first + len(masked))
        lines: list[LogLine] = list(map(_new_tuple, repeat(LogLine), zip(positions, repeat(offset), masked)))
        self.positions[report.name] = first + len(lines)
        recogniser = self.recognisers.get(report.name)
        if recogniser is None:
            recogniser = self.recognisers[report.name] = Recogniser()
        recogniser.feed_batch(first, masked)
        await self.reporter.step_output(report, lines)

    def recognised(self, report: StepReport) -> Recognised:
        """The failing tests and counts the step's log showed (the step has ended)."""
        recogniser = self.recognisers.pop(report.name, None)
        return recogniser.finish() if recogniser is not None else Recognised()

    async def pump(self, report: StepReport, output: AsyncIterator[bytes]) -> None:
        """Stream a container's output to the step's log until it ends; a broken stream is said in the log."""
        splitter = LineSplitter(guard=self.masker.byte_pattern, reach=self.masker.reach)
        try:
            async for chunk in output:
                await self.write(report, splitter.feed(chunk))
        except EngineError as exc:
            await self.write(report, [*splitter.flush(), f"[hangar] log stream interrupted: {exc}"])
            return
        await self.write(report, splitter.flush())
