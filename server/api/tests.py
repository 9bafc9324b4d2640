"""Test results over the API: a build's tests (failed first, paged, by outcome, searched), a test's history
on a branch, and the flakiest tests of a repository."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pipelines.testresults.infra import Failed, infrastructure_cause
from pipelines.testresults.model import Outcome, TestCounts
from server.api.access import readable_build, readable_repo
from server.api.common import query_int, services
from server.db.models import Build, Step, TestResult
from server.store.tests import flakiest, history_of, list_tests, suite_counts
from server.testresults import CLONE_STEP, build_tests

DEFAULT_PAGE = 100
MAX_PAGE = 500
HISTORY = 50


def counts_view(counts: TestCounts) -> dict[str, int]:
    """Counts as JSON, with their total."""
    return counts.model_dump() | {"total": counts.total}


def result_view(result: TestResult) -> dict[str, Any]:
    """One test case's result in a build."""
    fields = ("key", "suite", "classname", "name", "file", "line", "outcome", "duration", "message", "text")
    return {name: getattr(result, name) for name in fields} | {
        "log_line": result.log_line,
        "flaky": result.flaky,
    }


async def build_results(request: Request) -> Response:
    """A build's tests: `?outcome=` (passed, failed, error, skipped), `?q=`, `?limit=` (100, at most 500),
    `?offset=`; failed first. With the build's counts and its suites' counts."""
    _repo, build = await readable_build(request)
    outcome = request.query_params.get("outcome", "")
    if outcome and outcome not in set(Outcome):
        raise HTTPException(400, f"outcome is one of {', '.join(Outcome)}, not {outcome!r}")
    limit = min(query_int(request, "limit", DEFAULT_PAGE, minimum=1) or DEFAULT_PAGE, MAX_PAGE)
    offset = query_int(request, "offset", 0) or 0
    search = request.query_params.get("q", "")
    async with services(request).reading() as session:
        summary = await build_tests(session, build.id or 0, shown=0)
        results, matching = await list_tests(
            session, build.id or 0, outcome=outcome, search=search, limit=limit, offset=offset
        )
        suites = await suite_counts(session, build.id or 0)
    return JSONResponse(
        {
            "counts": counts_view(summary.counts) if summary else None,
            "counted": summary.counted if summary else False,
            "matching": matching,
            "offset": offset,
            "tests": [result_view(result) for result in results],
            "suites": [{"suite": suite, "counts": counts_view(counts)} for suite, counts in suites],
        }
    )


async def history(request: Request) -> Response:
    """A test's outcome and duration over the last builds of a branch (`?branch=`, the default branch by
    default); builds where its step failed for the infrastructure are left out."""
    repo, _user = await readable_repo(request)
    key = str(request.path_params["key"])
    branch = request.query_params.get("branch", repo.default_branch)
    async with services(request).reading() as session:
        rows = await history_of(session, repo.id or 0, key, branch=branch, limit=HISTORY)
        step_ids = {result.step_id for result, _build in rows}
        steps = (await session.exec(select(Step).where(col(Step.id).in_(step_ids)))).all()
    infrastructure = {
        step.id for step in steps if infrastructure_cause(Failed(step.error, clone=step.name == CLONE_STEP))
    }
    kept = [(result, build) for result, build in rows if result.step_id not in infrastructure]
    if not rows:
        raise HTTPException(404, f"{repo.slug} has no test {key} on {branch}")
    first = rows[0][0]
    return JSONResponse(
        {
            "key": key,
            "suite": first.suite,
            "classname": first.classname,
            "name": first.name,
            "branch": branch,
            "flaky": any(result.flaky for result, _build in kept),
            "history": [_entry(result, build) for result, build in kept],
        }
    )


def _entry(result: TestResult, build: Build) -> dict[str, Any]:
    """One build's result of the test."""
    return {
        "build": build.number,
        "sha": build.sha,
        "status": build.status,
        "outcome": result.outcome,
        "duration": result.duration,
        "flaky": result.flaky,
        "created": build.created,
    }


async def flaky(request: Request) -> Response:
    """The tests most often flaky on a branch (`?branch=`, the default branch by default)."""
    repo, _user = await readable_repo(request)
    branch = request.query_params.get("branch", repo.default_branch)
    async with services(request).reading() as session:
        rows = await flakiest(session, repo.id or 0, branch=branch, limit=25)
    return JSONResponse(
        {
            "branch": branch,
            "flaky": [
                {"key": key, "classname": classname, "name": name, "builds": builds}
                for key, classname, name, builds in rows
            ],
        }
    )


routes = [
    Route("/repos/{owner}/{name}/builds/{number}/tests", build_results, methods=["GET"]),
    Route("/repos/{owner}/{name}/tests", flaky, methods=["GET"]),
    Route("/repos/{owner}/{name}/tests/{key}", history, methods=["GET"]),
]
