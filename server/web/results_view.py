"""What the build page and the repository page show of test results (counts, the first failures, the lines
new since the last green build, the flakiest tests), and the links from a test to its log line."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from pipelines.links import build_link
from pipelines.status import Status
from server.db.models import Build, Repo, Stage, Step, TestResult
from server.services import Services
from server.store.tests import flakiest
from server.testresults import build_tests, infrastructure_label
from server.triage import new_since_green

LOG_PAGE = 1000
"""The build page's log pages (a test's log line is linked on its page)."""


def log_links(repo: Repo, build: Build, stages: Sequence[Stage], steps: Sequence[Step]) -> dict[int, str]:
    """Per step id, the address of its log on the build page."""
    numbers = {stage.id: stage.number for stage in stages}
    here = build_link("", repo.slug, build.number)
    return {step.id or 0: f"{here}/{numbers[step.stage_id]}/{step.number}" for step in steps}


def line_link(links: dict[int, str], result: TestResult) -> str:
    """Where a test's failure was printed in its step's log ("" when unknown)."""
    base = links.get(result.step_id, "")
    if not base or result.log_line is None:
        return base
    return f"{base}?start={result.log_line // LOG_PAGE * LOG_PAGE}#L{result.log_line + 1}"


async def build_page_tests(
    session: AsyncSession, repo: Repo, build: Build, stages: Sequence[Stage], steps: Sequence[Step]
) -> dict[str, Any]:
    """What the build page shows of its tests and failure: counts, first failures, infrastructure label."""
    tests = await build_tests(session, build.id or 0)
    links = log_links(repo, build, stages, steps)
    failing = [(result, line_link(links, result)) for result in tests.failing] if tests else []
    return {
        "tests": tests,
        "failing_tests": failing,
        "infrastructure": await infrastructure_label(session, build, stages, steps),
    }


async def new_lines_context(
    hangar: Services, build: Build, selected: tuple[Stage, Step] | None
) -> dict[str, Any] | None:
    """For a failed step on show: the lines new since its branch's last green build, and that build."""
    if selected is None or Status(selected[1].status) not in (Status.FAILURE, Status.ERROR):
        return None
    async with hangar.reading() as session:
        since = await new_since_green(session, build, *selected)
    if since is None:
        return None
    green, lines = since
    return {"green": green, "lines": lines, "page_size": LOG_PAGE}


async def flaky_tests(session: AsyncSession, repo: Repo) -> list[tuple[str, str, str, int]]:
    """The flakiest tests of the repository's default branch (for its page)."""
    return await flakiest(session, repo.id or 0, branch=repo.default_branch, limit=10)
