"""Test results: a step's run (counts, source) and its cases, stored once whatever the retries; a build's
tests, a test's history on a branch, and the flaky tests of a repository."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, delete, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from pipelines.runner_api import TestBatch
from pipelines.testresults.model import Outcome, TestCase, TestCounts
from server.db.models import Build, Step, TestResult, TestRun
from server.store.rows import save

FAILING = (Outcome.FAILED.value, Outcome.ERROR.value)
_CHUNK = 500
_FAILED_FIRST = case(
    (col(TestResult.outcome) == Outcome.ERROR.value, 0),
    (col(TestResult.outcome) == Outcome.FAILED.value, 0),
    (col(TestResult.outcome) == Outcome.SKIPPED.value, 2),
    else_=1,
)


@dataclass(frozen=True)
class HistoryEntry:
    """One build's result of a test."""

    build: int
    sha: str
    status: str
    outcome: str
    duration: float | None
    flaky: bool
    created: float


async def store_tests(session: AsyncSession, build: Build, step: Step, batch: TestBatch) -> int:
    """Store the cases of the batch the step does not have yet (its counts with the last one); the next
    position expected. A batch past the end would leave a gap: nothing is stored."""
    run = (await session.exec(select(TestRun).where(TestRun.step_id == step.id))).first()
    if run is None:
        run = TestRun(step_id=step.id or 0, build_id=build.id or 0, source=batch.source.value)
    have = run.cases
    if batch.first > have:
        return have
    fresh = batch.cases[have - batch.first :]
    rows = [_row(build, step, position, item) for position, item in enumerate(fresh, have)]
    session.add_all(rows)
    run.cases = have + len(rows)
    if batch.done:
        counts = batch.counts
        run.counted = counts is not None
        counts = counts or TestCounts(failed=sum(1 for item in batch.cases if item.outcome.is_failed))
        run.passed, run.failed, run.errors, run.skipped = (
            counts.passed, counts.failed, counts.errors, counts.skipped
        )  # fmt: skip
    await save(session, run)
    await _mark_flaky(session, build, rows)
    return run.cases


def _row(build: Build, step: Step, position: int, item: TestCase) -> TestResult:
    return TestResult(
        step_id=step.id or 0, build_id=build.id or 0, repo_id=build.repo_id, sha=build.sha,
        position=position, key=item.key, suite=item.suite, classname=item.classname, name=item.name,
        file=item.file, line=item.line, outcome=item.outcome.value, duration=item.duration,
        message=item.message, text=item.text, log_line=item.log_line,
    )  # fmt: skip


async def _mark_flaky(session: AsyncSession, build: Build, rows: Sequence[TestResult]) -> None:
    """A test that failed in one build and passed in another of the same commit is flaky in both."""
    if not build.sha:
        return
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start : start + _CHUNK]
        keys = {row.key for row in chunk}
        query = select(TestResult.key, TestResult.outcome).where(
            TestResult.repo_id == build.repo_id,
            TestResult.sha == build.sha,
            TestResult.build_id != build.id,
            col(TestResult.key).in_(keys),
            col(TestResult.outcome) != Outcome.SKIPPED.value,
        )
        chunk = [row for row in chunk if row.outcome != Outcome.SKIPPED.value]
        seen: dict[str, set[bool]] = {}
        for key, outcome in await session.exec(query):
            seen.setdefault(key, set()).add(outcome in FAILING)
        # flaky: this build passed where another failed, or the other way round
        flaky = {row.key for row in chunk if (row.outcome not in FAILING) in seen.get(row.key, ())}
        flaky.discard("")
        if not flaky:
            continue
        for row in chunk:
            row.flaky = row.flaky or row.key in flaky
        await session.exec(
            update(TestResult)
            .where(
                col(TestResult.repo_id) == build.repo_id,
                col(TestResult.sha) == build.sha,
                col(TestResult.key).in_(flaky),
            )
            .values(flaky=True)
        )


async def forget_tests(session: AsyncSession, step_ids: Sequence[int]) -> None:
    """Drop the results of these steps (a stage restarted in place runs them again)."""
    if step_ids:
        await session.exec(delete(TestResult).where(col(TestResult.step_id).in_(step_ids)))
        await session.exec(delete(TestRun).where(col(TestRun.step_id).in_(step_ids)))


async def runs_of_build(session: AsyncSession, build_id: int) -> Sequence[TestRun]:
    """The test runs of a build's steps."""
    return (await session.exec(select(TestRun).where(TestRun.build_id == build_id))).all()


async def list_tests(
    session: AsyncSession,
    build_id: int,
    *,
    outcome: str = "",
    search: str = "",
    limit: int = 100,
    offset: int = 0,
) -> tuple[Sequence[TestResult], int]:
    """A build's test cases, failed first (then by suite and name), a page at a time; and how many match."""
    where = [col(TestResult.build_id) == build_id]
    if outcome:
        where.append(col(TestResult.outcome) == outcome)
    if search.strip():
        needle = f"%{search.strip().lower()}%"
        where.append(
            or_(
                func.lower(col(TestResult.name)).like(needle),
                func.lower(col(TestResult.classname)).like(needle),
                func.lower(col(TestResult.suite)).like(needle),
            )
        )
    total = (await session.exec(select(func.count()).select_from(TestResult).where(*where))).one()
    query = (
        select(TestResult)
        .where(*where)
        .order_by(_FAILED_FIRST, col(TestResult.suite), col(TestResult.classname), col(TestResult.name))
        .offset(offset)
        .limit(limit)
    )
    return (await session.exec(query)).all(), int(total)


async def suite_counts(session: AsyncSession, build_id: int) -> list[tuple[str, TestCounts]]:
    """Per suite of a build, its counts (suites in name order)."""
    query = (
        select(TestResult.suite, TestResult.outcome, func.count())
        .where(TestResult.build_id == build_id)
        .group_by(col(TestResult.suite), col(TestResult.outcome))
    )
    tallies: dict[str, dict[str, int]] = {}
    for suite, outcome, number in await session.exec(query):
        tallies.setdefault(suite, {})[outcome] = int(number)
    return [
        (suite, TestCounts(passed=t.get("passed", 0), failed=t.get("failed", 0), errors=t.get("error", 0),
                           skipped=t.get("skipped", 0)))
        for suite, t in sorted(tallies.items())
    ]  # fmt: skip


async def history_of(
    session: AsyncSession, repo_id: int, key: str, *, branch: str = "", limit: int = 50
) -> list[tuple[TestResult, Build]]:
    """A test's results over the last builds (of a branch), newest first."""
    query = (
        select(TestResult, Build)
        .join(Build, col(Build.id) == col(TestResult.build_id))
        .where(TestResult.repo_id == repo_id, TestResult.key == key)
    )
    if branch:
        query = query.where(Build.branch == branch)
    query = query.order_by(col(Build.number).desc(), col(TestResult.id)).limit(limit)
    return [(result, build) for result, build in await session.exec(query)]


async def flakiest(
    session: AsyncSession, repo_id: int, *, branch: str = "", limit: int = 10
) -> list[tuple[str, str, str, int]]:
    """The tests most often flaky (of a branch): key, class, name, and in how many builds."""
    builds = func.count(func.distinct(TestResult.build_id))
    query = (
        select(TestResult.key, func.max(TestResult.classname), func.max(TestResult.name), builds)
        .where(TestResult.repo_id == repo_id, col(TestResult.flaky).is_(True))
        .group_by(col(TestResult.key))
    )
    if branch:
        query = query.join(Build, col(Build.id) == col(TestResult.build_id)).where(Build.branch == branch)
    query = query.order_by(builds.desc(), func.max(TestResult.name)).limit(limit)
    return [(key, classname, name, int(count)) for key, classname, name, count in await session.exec(query)]
