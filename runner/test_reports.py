"""A finished step's test results: its report files (the `reports:` globs and the `HANGAR_REPORTS` folder)
read from its container before it is removed, else the failing tests recognised in its log.

Bounded: a report file over MAX_REPORT_BYTES, or one that is not JUnit XML, is refused with a note in the
step's log, and the step's outcome is what its exit code says, whatever its reports hold.
"""

from __future__ import annotations

import posixpath
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from pipelines.globs import glob_match, literal_root
from pipelines.plan import StepPlan
from pipelines.runner_api import TestBatch
from pipelines.testresults.model import TestCase, TestCounts, TestSource, count
from pipelines.testresults.recognise import Recognised
from runner.engine import Engine, EngineError
from runner.environment import REPORTS_DIR

MAX_REPORT_BYTES = 20 * 1024 * 1024
"""A report file larger than this is refused (its tests are not read)."""
MAX_ARCHIVE_BYTES = 256 * 1024 * 1024
"""What one folder of reports may hold at most, all files together."""
MAX_FILES = 1_000
MAX_CASES = 50_000
"""Test cases sent per step at most (the counts still count them all)."""
BATCH_CASES = 1_000
NOTE = "[hangar]"


@dataclass
class StepTests:
    """What a step's tests said: the cases, counts, where they came from, and notes for its log."""

    cases: list[TestCase] = field(default_factory=list)
    counts: TestCounts | None = None
    source: TestSource = TestSource.REPORT
    notes: list[str] = field(default_factory=list)

    def batches(self, step: int) -> Iterator[TestBatch]:
        """The results as runner API batches (nothing when there are none)."""
        if not self.cases and self.counts is None:
            return
        cases = self.cases[:MAX_CASES]
        starts = range(0, len(cases), BATCH_CASES) or range(1)
        for first in starts:
            done = first + BATCH_CASES >= len(cases)
            yield TestBatch(
                step=step,
                first=first,
                cases=cases[first : first + BATCH_CASES],
                source=self.source,
                counts=self.counts if done else None,
                done=done,
            )


def roots(step: StepPlan, workspace: str) -> list[tuple[str, list[str]]]:
    """The folders (or files) to read from the container, each with the absolute globs matched inside it."""
    base = step.working_dir or workspace
    wanted: dict[str, list[str]] = {REPORTS_DIR: [f"{REPORTS_DIR}/**"]}
    for pattern in step.reports:
        absolute = posixpath.normpath(posixpath.join(base, pattern))
        wanted.setdefault(literal_root(absolute), []).append(absolute)
    return list(wanted.items())


async def collect(
    engine: Engine,
    handle: str,
    step: StepPlan,
    workspace: str,
    recognised: Recognised,
    mask: Callable[[str], str],
) -> StepTests:
    """The step's results: from its report files when it wrote any, else from its log."""
    found = StepTests()
    files = 0
    for root, patterns in roots(step, workspace):
        try:
            archive = await engine.archive(handle, root, MAX_ARCHIVE_BYTES)
        except EngineError as exc:
            found.notes.append(f"{NOTE} test reports in {root} were not read: {exc}")
            continue
        if archive is None:
            continue
        with archive:
            files += _read(archive, root, patterns, workspace, mask, found)
    if files:
        found.counts = count(found.cases)
        found.notes.append(f"{NOTE} tests: {found.counts.describe()} (from {_files(files)})")
    elif recognised:
        found.cases, found.counts, found.source = recognised.cases, recognised.counts, TestSource.LOG
    return found


def from_log(recognised: Recognised) -> StepTests:
    """The results of a step whose container is gone: what its log showed."""
    return StepTests(recognised.cases, recognised.counts, TestSource.LOG)


def _read(
    archive: BinaryIO,
    root: str,
    patterns: list[str],
    workspace: str,
    mask: Callable[[str], str],
    found: StepTests,
) -> int:
    """Parse the archive's files that match; the number of report files read."""
    parent = posixpath.dirname(root.rstrip("/")) or "/"
    read = 0
    try:
        with tarfile.open(fileobj=archive, mode="r:") as tar:
            for member in tar:
                path = posixpath.join(parent, member.name)
                if not member.isfile() or not any(glob_match(p, path) for p in patterns):
                    continue
                if read >= MAX_FILES:
                    found.notes.append(f"{NOTE} more than {MAX_FILES} test reports: the others are not read")
                    break
                read += 1
                _parse_one(tar, member, _shown(path, workspace), mask, found)
    except tarfile.TarError as exc:
        found.notes.append(f"{NOTE} test reports in {root} were not read: {exc}")
    return read


def _parse_one(
    tar: tarfile.TarFile, member: tarfile.TarInfo, shown: str, mask: Callable[[str], str], found: StepTests
) -> None:
    if member.size > MAX_REPORT_BYTES:
        found.notes.append(
            f"{NOTE} test report {shown} is refused: {_megabytes(member.size)} is over the limit of "
            f"{MAX_REPORT_BYTES // (1024 * 1024)} MiB (the step's outcome is unchanged)"
        )
        return
    from pipelines.testresults.junit import ReportError, parse_junit  # noqa: PLC0415  (XML: steps with reports)

    stream = tar.extractfile(member)
    data = stream.read() if stream is not None else b""
    try:
        found.cases.extend(parse_junit(data, mask))
    except ReportError as exc:
        found.notes.append(f"{NOTE} test report {shown} is refused: {exc} (the step's outcome is unchanged)")


def _shown(path: str, workspace: str) -> str:
    """A report's path as the person wrote it: relative to the workspace when it is inside."""
    prefix = workspace.rstrip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else path


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _files(number: int) -> str:
    return "1 report file" if number == 1 else f"{number} report files"
