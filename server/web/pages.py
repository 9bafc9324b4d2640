"""The reading pages: the dashboard, a repository's builds, a build with its stages, steps and logs."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pipelines.links import build_link
from pipelines.status import Status
from server.api.access import readable_build, readable_repo
from server.api.auth import current_user, may_build, may_configure, may_read
from server.api.common import query_int, services
from server.db.models import Build, Repo, Stage, Step
from server.log_search import search_log
from server.store.builds import latest_per_branch, list_builds, list_stages, list_steps
from server.store.logs import read_lines
from server.store.repos import list_repos
from server.web.render import page
from webui.chart import ChartBuild, duration_chart_svg

BRANCHES_SHOWN = 5
"""Branches the dashboard shows per repository (the default branch first)."""
CHART_BUILDS = 50
LIST_BUILDS = 25
LOG_PAGE = 1000
"""Lines per page of the log as HTML (without JavaScript; the log viewer pages on its own)."""
SEARCH_SHOWN = 200


@dataclass
class StageTree:
    """A stage and its steps, as the build page's tree shows them."""

    stage: Stage
    steps: list[Step]


async def dashboard(request: Request) -> Response:
    """Every repository the visitor may see, with the latest build of each branch."""
    user = await current_user(request)
    hangar = services(request)
    async with hangar.reading() as session:
        every = await list_repos(session)
    repos = [repo for repo in every if await may_read(hangar, user, repo)]
    async with hangar.reading() as session:
        latest = await latest_per_branch(session, [repo.id or 0 for repo in repos])
    by_repo: dict[int, list[Build]] = defaultdict(list)
    for build in latest:
        by_repo[build.repo_id].append(build)
    rows = [(repo, branches_shown(repo, by_repo[repo.id or 0])) for repo in repos]
    return await page(request, "dashboard.html", {"rows": rows})


def branches_shown(repo: Repo, latest: Sequence[Build]) -> list[Build]:
    """The branches' latest builds the dashboard shows: the default branch first, then the newest."""
    ordered = sorted(latest, key=lambda build: (build.branch != repo.default_branch, -build.number))
    return ordered[:BRANCHES_SHOWN]


async def repo_page(request: Request) -> Response:
    """A repository's builds (newest first, `?before=` pages back, `?branch=` filters) and their chart."""
    repo, user = await readable_repo(request)
    before = query_int(request, "before", None)
    branch = request.query_params.get("branch", "")
    async with services(request).reading() as session:
        recent = await list_builds(session, repo.id or 0, limit=CHART_BUILDS, branch=branch)
        shown = (
            await list_builds(session, repo.id or 0, limit=LIST_BUILDS, before=before, branch=branch)
            if before is not None
            else recent[:LIST_BUILDS]
        )
    chart = duration_chart_svg([chart_build(repo, build) for build in recent])
    context = {
        "repo": repo,
        "builds": shown,
        "branch": branch,
        "chart": chart,
        "older": shown[-1].number if len(shown) == LIST_BUILDS and shown[-1].number > 1 else None,
        "may_configure": await may_configure(services(request), user, repo),
        "base_url": services(request).settings.url.rstrip("/"),
    }
    return await page(request, "repo.html", context)


def chart_build(repo: Repo, build: Build) -> ChartBuild:
    """A build as the duration chart shows it."""
    seconds = (build.finished - build.started) if build.started and build.finished else None
    return ChartBuild(build.number, build.status, seconds, build_link("", repo.slug, build.number))


async def build_page(request: Request) -> Response:
    """A build: its stages and steps, and the log of one step (the path's, else the most telling one)."""
    repo, build = await readable_build(request)
    user = await current_user(request)
    async with services(request).reading() as session:
        stages = await list_stages(session, build.id or 0)
        steps = await list_steps(session, [stage.id or 0 for stage in stages])
    by_stage: dict[int, list[Step]] = defaultdict(list)
    for step in steps:
        by_stage[step.stage_id].append(step)
    tree = [StageTree(stage, by_stage[stage.id or 0]) for stage in stages]
    selected = selected_step(request, tree)
    log = await log_context(request, repo, build, *selected) if selected else None
    context = {
        "repo": repo,
        "build": build,
        "tree": tree,
        "selected": selected,
        "log": log,
        "may_build": await may_build(services(request), user, repo),
        "running": not Status(build.status).is_done,
        "cancelling": "cancelling" in request.query_params and build.finished is None,
    }
    return await page(request, "build.html", context)


def selected_step(request: Request, tree: list[StageTree]) -> tuple[Stage, Step] | None:
    """The step of the path (404 when it has none such); else the first failed, else running, else first."""
    pairs = [(node.stage, step) for node in tree for step in node.steps]
    if "stage" in request.path_params:
        wanted = (str(request.path_params["stage"]), str(request.path_params["step"]))
        for stage, step in pairs:
            if (str(stage.number), str(step.number)) == wanted:
                return stage, step
        raise HTTPException(404, f"this build has no step {wanted[0]}/{wanted[1]}")
    for telling in (Status.FAILURE, Status.ERROR, Status.RUNNING):
        for stage, step in pairs:
            if step.status == telling:
                return stage, step
    return pairs[0] if pairs else None


async def log_context(request: Request, repo: Repo, build: Build, stage: Stage, step: Step) -> dict[str, Any]:
    """What the log panel shows: a page of lines (or a search's matches) and the viewer's addresses."""
    api = f"/api/repos/{repo.owner}/{repo.name}/builds/{build.number}/logs/{stage.number}/{step.number}"
    needle = request.query_params.get("q", "")
    total = step.log_lines
    last_page = max(0, (total - 1) // LOG_PAGE * LOG_PAGE)
    start = min(query_int(request, "start", 0) or 0, last_page) // LOG_PAGE * LOG_PAGE
    truncated = False
    if needle.strip():
        lines, truncated = await search_log(services(request), step.id or 0, needle, SEARCH_SHOWN)
    else:
        async with services(request).reading() as session:
            lines = await read_lines(session, step.id or 0, start, LOG_PAGE)
    here = f"{build_link('', repo.slug, build.number)}/{stage.number}/{step.number}"
    return {
        "api": api,
        "here": here,
        "lines": lines,
        "total": total,
        "start": start,
        "page_size": LOG_PAGE,
        "last_page": last_page,
        "query": needle,
        "truncated": truncated,
        "done": Status(step.status).is_done,
    }


PATH = "/{owner}/{name}"
routes = [
    Route("/", dashboard, methods=["GET"]),
    Route(PATH, repo_page, methods=["GET"]),
    Route(PATH + "/{number}", build_page, methods=["GET"]),
    Route(PATH + "/{number}/{stage}/{step}", build_page, methods=["GET"]),
]
