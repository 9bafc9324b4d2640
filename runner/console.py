"""The console reporter of `hangar exec`: log lines prefixed by their step, a line per step outcome."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from operator import itemgetter
from typing import IO, TextIO

from rich.console import Console
from rich.text import Text

from pipelines.report import LogLine, StageReport, StepReport
from pipelines.runner_api import TestBatch
from pipelines.status import Status

SYMBOLS = {
    Status.SUCCESS: ("✓", "green"),
    Status.FAILURE: ("✗", "red"),
    Status.ERROR: ("!", "red"),
    Status.KILLED: ("✗", "yellow"),
    Status.SKIPPED: ("-", "dim"),
    Status.RUNNING: ("▶", "cyan"),
}
_PALETTE = ("cyan", "magenta", "blue", "yellow", "green")


class PipeSafeConsole(Console):
    """A console that stops printing quietly once its reader has gone (`hangar exec 2>&1 | head`), as other
    command-line tools do: rich's default raises SystemExit from whatever task was printing."""

    def on_broken_pipe(self) -> None:
        """Drop this and every later print; what is still buffered for the stream goes to /dev/null."""
        self.quiet = True
        discard_stream(self.file)


def discard_stream(stream: IO[str]) -> None:
    """Point the stream's file descriptor at /dev/null, so its buffered text and the interpreter's last flush
    no longer fail on a closed pipe (a stream without a descriptor is left as it is)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, stream.fileno())
        finally:
            os.close(devnull)


class ConsoleReporter:
    """Prints a stage as it runs; the log text goes to `out` untouched (ANSI colours pass through)."""

    def __init__(self, console: Console, out: TextIO | None = None) -> None:
        self.console = console
        self.out = out or sys.stdout
        self._reader_gone = False
        """Set once the log text met a closed pipe (`hangar exec | head`): the run goes on unprinted."""
        self._colours: dict[str, str] = {}
        self._prefixes: dict[str, str] = {}
        """Per step, what starts each of its lines (asked of the console once: a step may print millions)."""

    async def stage_updated(self, stage: StageReport) -> None:
        """A rule when the stage starts; its outcome when it ends."""
        if stage.status == Status.RUNNING:
            self.console.rule(Text(f"pipeline {stage.name}", style="bold"))
        elif stage.status.is_done:
            self.console.print(
                self.outcome(stage.name, stage.status, stage.started, stage.finished, stage.error)
            )

    async def step_updated(self, step: StepReport) -> None:
        """A line when a step starts, and one with its status, exit code and duration when it ends."""
        if step.status == Status.RUNNING:
            self.console.print(Text.assemble(("▶ ", "cyan"), (step.name, self._colour(step.name))))
        elif step.status.is_done:
            detail = f"exit code {step.exit_code}" if step.status == Status.FAILURE else step.error
            self.console.print(self.outcome(step.name, step.status, step.started, step.finished, detail))

    async def step_output(self, step: StepReport, lines: Sequence[LogLine]) -> None:
        """Each line as `[step] text`; nothing once the reader of the output has gone."""
        if self._reader_gone:
            return
        prefix = self._prefixes.get(step.name)
        if prefix is None:
            prefix = self._prefixes[step.name] = self._prefix(step.name)
        try:
            self.out.write(prefix + f"\n{prefix}".join(map(_TEXT, lines)) + "\n")
            self.out.flush()
        except BrokenPipeError:
            self._reader_gone = True
            discard_stream(self.out)

    async def step_tests(self, step: StepReport, batch: TestBatch) -> None:
        """Each failing test on a line of its own, then the counts."""
        for case in batch.cases:
            if case.outcome.is_failed:
                where = f"  {case.file}:{case.line}" if case.file and case.line else ""
                message = case.message.splitlines()[0] if case.message else ""
                self.console.print(Text.assemble(("✗ ", "red"), (case.name, "bold"), where, f"  {message}"))
        if batch.done and batch.counts is not None:
            self.console.print(Text(f"  tests of {step.name}: {batch.counts.describe()}", style="dim"))

    def outcome(
        self, name: str, status: Status, started: float | None, finished: float | None, detail: str = ""
    ) -> Text:
        """`✓ name  success  1.2s  detail`: symbol and word, so colour is never the only signal."""
        symbol, style = SYMBOLS.get(status, ("?", ""))
        text = Text.assemble((f"{symbol} ", style), (name, "bold"), "  ", (status.value, style))
        if started is not None and finished is not None:
            text.append(f"  {finished - started:.1f}s", style="dim")
        if detail:
            text.append(f"  {detail}")
        return text

    def _prefix(self, name: str) -> str:
        """`[name] `, in the step's colour on a terminal."""
        prefix = f"[{name}] "
        if self.console.is_terminal:
            prefix = f"\033[{_ANSI[self._colour(name)]}m{prefix}\033[0m"
        return prefix

    def _colour(self, name: str) -> str:
        return self._colours.setdefault(name, _PALETTE[len(self._colours) % len(_PALETTE)])


_TEXT = itemgetter(2)
"""A LogLine's text (`line.out`), for map()."""
_ANSI = {"cyan": "36", "magenta": "35", "blue": "34", "yellow": "33", "green": "32"}
