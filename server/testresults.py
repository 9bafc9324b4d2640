"""A build's test results and failure triage as the API, the pages and the notifications show them: the
counts (per build and stage), the failing tests first, and whether it failed for the infrastructure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pipelines.status import Status
from pipelines.testresults.infra import Failed, build_cause, infrastructure_cause
from pipelines.testresults.model import TestCounts
from server.db.models import Build, Stage, Step, TestResult, TestRun
from server.store.builds import list_stages, list_steps
from server.store.logs import last_lines
from server.store.tests import FAILING, list_tests

FAILING_SHOWN = 20
CLONE_STEP = "clone"


@dataclass(frozen=True)
class BuildTests:
    """A build's test counts, per stage too, and its first failing tests."""

    counts: TestCounts
    counted: bool
    """False when a step's counts are unknown (only its failures were recognised in its log)."""
    stages: dict[int, TestCounts] = field(default_factory=dict)
    failing: Sequence[TestResult] = ()

    def describe_failures(self, limit: int = 140) -> str:
        """`2 of 512 tests failed: test_login, test_logout` cut to `limit` characters."""
        failing = self.counts.failing
        head = f"{failing} of {self.counts.total} tests failed" if self.counted else f"{failing} tests failed"
        if failing == 1:
            head = head.replace("tests failed", "test failed")
        names = [result.name for result in self.failing]
        whole = f"{head}: {', '.join(names)}" if names else head
        if len(whole) <= limit and failing <= len(names):
            return whole
        kept: list[str] = []
        for name in names:
            if len(f"{head}: {', '.join([*kept, name])}, …") > limit:
                break
            kept.append(name)
        return f"{head}: {', '.join(kept)}, …" if kept else head[:limit]


async def build_tests(session: AsyncSession, build_id: int, shown: int = FAILING_SHOWN) -> BuildTests | None:
    """The build's test results; None when no step reported any."""
    query = select(TestRun, Step.stage_id).join(Step, col(Step.id) == col(TestRun.step_id))
    rows = (await session.exec(query.where(TestRun.build_id == build_id))).all()
    if not rows:
        return None
    total, counted = TestCounts(), True
    stages: dict[int, TestCounts] = {}
    for run, stage_id in rows:
        counts = TestCounts(passed=run.passed, failed=run.failed, errors=run.errors, skipped=run.skipped)
        counted = counted and run.counted
        total = total + counts
        stages[stage_id] = stages.get(stage_id, TestCounts()) + counts
    failing, _ = await list_tests(session, build_id, limit=shown) if total.failing else ((), 0)
    failing = [result for result in failing if result.outcome in FAILING]
    return BuildTests(total, counted, stages, failing)


async def infrastructure_label(
    session: AsyncSession, build: Build, stages: Sequence[Stage], steps: Sequence[Step]
) -> str:
    """A failed build's infrastructure label (`out of memory`, `image not found`…), "" for a code failure."""
    if not Status(build.status).is_failed:
        return ""
    failures = [await _failed_step(session, step) for step in steps if Status(step.status) in _FAILED_STEP]
    with_failed_step = {step.stage_id for step in steps if Status(step.status) in _FAILED_STEP}
    failures += [
        Failed(stage.error)
        for stage in stages
        if Status(stage.status).is_failed and stage.error and stage.id not in with_failed_step
    ]
    return build_cause(failures)


async def step_label(session: AsyncSession, step: Step) -> str:
    """A failed step's infrastructure label ("" when it failed for its code, or did not fail)."""
    if Status(step.status) not in _FAILED_STEP:
        return ""
    return infrastructure_cause(await _failed_step(session, step))


_FAILED_STEP = (Status.FAILURE, Status.ERROR)


async def failure_description(session: AsyncSession, build: Build, limit: int) -> str:
    """What a failed build's commit status says beyond its outcome: `2 of 512 tests failed: test_login, …`,
    or `infrastructure: out of memory`; "" when there is nothing more to say."""
    stages = await list_stages(session, build.id or 0)
    steps = await list_steps(session, [stage.id or 0 for stage in stages])
    label = await infrastructure_label(session, build, stages, steps)
    if label:
        return f"Build #{build.number} {build.status} (infrastructure: {label})"[:limit]
    tests = await build_tests(session, build.id or 0)
    return tests.describe_failures(limit) if tests is not None and tests.counts.failing else ""


async def _failed_step(session: AsyncSession, step: Step) -> Failed:
    lines = tuple(await last_lines(session, step.id or 0, 20)) if not step.error else ()
    return Failed(step.error, clone=step.name == CLONE_STEP, last_lines=lines)
