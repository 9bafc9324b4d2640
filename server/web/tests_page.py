"""The Tests view of a build (failed first, searched, paged, counts per suite), and what the build page and
the repository page show of test results (counts, the first failures, the flakiest tests)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipelines.links import build_link
from pipelines.status import Status
from pipelines.testresults.model import Outcome
from server.api.access import readable_build
from server.api.common import query_int, services
from server.db.models import Build, Repo, Stage, Step, TestResult
from server.services import Services
from server.store.builds import list_stages, list_steps
from server.store.tests import flakiest, list_tests, suite_counts
from server.testresults import build_tests, infrastructure_label
from server.triage import new_since_green
from server.web.render import page

PAGE = 100
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


async def tests_page(request: Request) -> Response:
    """A build's tests: failed first, `?q=` searches names, `?outcome=` filters, `?start=` pages."""
    repo, build = await readable_build(request)
    search = request.query_params.get("q", "")
    outcome = request.query_params.get("outcome", "")
    outcome = outcome if outcome in set(Outcome) else ""
    start = query_int(request, "start", 0) or 0
    async with services(request).reading() as session:
        results, matching = await list_tests(
            session, build.id or 0, outcome=outcome, search=search, limit=PAGE, offset=start
        )
        suites = await suite_counts(session, build.id or 0)
        stages = await list_stages(session, build.id or 0)
        steps = await list_steps(session, [stage.id or 0 for stage in stages])
    links = log_links(repo, build, stages, steps)
    context: dict[str, Any] = {
        "repo": repo,
        "build": build,
        "results": [(result, line_link(links, result)) for result in results],
        "matching": matching,
        "suites": suites,
        "query": search,
        "outcome": outcome,
        "outcomes": list(Outcome),
        "start": start,
        "page_size": PAGE,
    }
    return await page(request, "tests.html", context)


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


routes = [Route("/{owner}/{name}/{number:int}/tests", tests_page, methods=["GET"])]
