"""The Tests view of a build: failed first, searched, filtered by outcome, paged, with counts per suite."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipelines.testresults.model import Outcome
from server.api.access import readable_build
from server.api.common import query_int, services
from server.store.builds import list_stages, list_steps
from server.store.tests import list_tests, suite_counts
from server.web.render import page
from server.web.results_view import line_link, log_links

PAGE = 100


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


routes = [Route("/{owner}/{name}/{number:int}/tests", tests_page, methods=["GET"])]
