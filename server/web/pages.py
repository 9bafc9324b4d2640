"""The reading pages: the dashboard, a repository's builds, a build with its stages, steps and logs; and the
forms that start builds from them (run a branch with parameters, promote or roll back a finished build), a
refused one shown again filled in, saying what was wrong."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pipelines.links import build_link
from pipelines.status import Status
from server.actions import starts
from server.actions.errors import ActionError
from server.api.access import readable_build, readable_repo, waiting_reasons
from server.api.auth import current_user, may_build, may_configure, may_read
from server.api.common import query_int, services
from server.artifacts.views import build_artifacts
from server.db.models import Build, Repo, Stage, Step
from server.log_search import search_log
from server.store.builds import build_config_files, latest_per_branch, list_builds, list_stages, list_steps
from server.store.logs import read_lines
from server.store.repos import list_repos
from server.web.forms import Attempt, allowed_build, allowed_repo, parameters_of
from server.web.render import page
from server.web.results_view import build_page_tests, flaky_tests, new_lines_context
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
    """A stage and its steps, as the build page's tree shows them; why it waits, if it waits for its
    pipeline's concurrency limit."""

    stage: Stage
    steps: list[Step]
    waiting: str = ""


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


async def repo_page(request: Request, attempt: Attempt | None = None, status_code: int = 200) -> Response:
    """A repository's builds (newest first, `?before=` pages back, `?branch=` filters) and their chart; the
    form to run a build for those who may build (`attempt`: sent back with its problem)."""
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
        flaky = await flaky_tests(session, repo)
    chart = duration_chart_svg([chart_build(repo, build) for build in recent])
    context = {
        "repo": repo,
        "builds": shown,
        "branch": branch,
        "chart": chart,
        "older": shown[-1].number if len(shown) == LIST_BUILDS and shown[-1].number > 1 else None,
        "may_configure": await may_configure(services(request), user, repo),
        "may_build": await may_build(services(request), user, repo),
        "attempt": attempt,
        "base_url": services(request).settings.url.rstrip("/"),
        "flaky": flaky,
    }
    return await page(request, "repo.html", context, status_code=status_code)


def chart_build(repo: Repo, build: Build) -> ChartBuild:
    """A build as the duration chart shows it."""
    seconds = (build.finished - build.started) if build.started and build.finished else None
    return ChartBuild(build.number, build.status, seconds, build_link("", repo.slug, build.number))


async def build_page(request: Request, attempt: Attempt | None = None, status_code: int = 200) -> Response:
    """A build: its stages and steps, and the log of one step (the path's, else the most telling one); the
    forms to approve a blocked build or promote a finished one (`attempt`: sent back with its problem)."""
    repo, build = await readable_build(request)
    user = await current_user(request)
    async with services(request).reading() as session:
        stages = await list_stages(session, build.id or 0)
        steps = await list_steps(session, [stage.id or 0 for stage in stages])
        waiting = await waiting_reasons(session, stages)
        files = await build_config_files(session, build.id or 0)
        results = await build_page_tests(session, repo, build, stages, steps)
        artifacts = await build_artifacts(session, "", repo, build)
    by_stage: dict[int, list[Step]] = defaultdict(list)
    for step in steps:
        by_stage[step.stage_id].append(step)
    tree = [StageTree(stage, by_stage[stage.id or 0], waiting[stage.id or 0]) for stage in stages]
    selected = selected_step(request, tree)
    log = await log_context(request, repo, build, *selected) if selected else None
    news = await new_lines_context(services(request), build, selected)
    context = {
        "repo": repo,
        "build": build,
        "tree": tree,
        "selected": selected,
        "log": log,
        "may_build": await may_build(services(request), user, repo),
        "running": not Status(build.status).is_done,
        "cancelling": "cancelling" in request.query_params and build.finished is None,
        "attempt": attempt,
        "config_files": files,
        **results,
        "news": news,
        "artifacts": artifacts,
    }
    return await page(request, "build.html", context, status_code=status_code)


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


async def run_build(request: Request) -> Response:
    """A custom build of the form's branch with its parameters; then its page."""
    repo, user, form = await allowed_repo(request)
    fields = {name: str(form.get(name, "")) for name in ("branch", "parameters")}
    try:
        build = await starts.start_custom(
            services(request), repo, user.login, fields["branch"].strip(),
            parameters=parameters_of(fields["parameters"]),
        )  # fmt: skip
    except ActionError as exc:
        return await repo_page(request, Attempt(fields, exc.detail), status_code=exc.status_code)
    return RedirectResponse(build_link("", repo.slug, build.number), status_code=303)


async def deploy(request: Request) -> Response:
    """Promote (or roll back to) the build on the form's target with its parameters; then the new build."""
    repo, build, user, form = await allowed_build(request)
    fields = {name: str(form.get(name, "")) for name in ("target", "parameters", "event")}
    try:
        started = await starts.deploy(
            services(request), repo, build, user.login, fields["target"],
            parameters_of(fields["parameters"]), event=fields["event"] or "promote",
        )  # fmt: skip
    except ActionError as exc:
        return await build_page(request, Attempt(fields, exc.detail), status_code=exc.status_code)
    return RedirectResponse(build_link("", repo.slug, started.number), status_code=303)


PATH = "/{owner}/{name}"
routes = [
    Route("/", dashboard, methods=["GET"]),
    Route(PATH, repo_page, methods=["GET"]),
    Route(PATH + "/{number}", build_page, methods=["GET"]),
    Route(PATH + "/{number}/{stage}/{step}", build_page, methods=["GET"]),
    Route(PATH + "/run", run_build, methods=["POST"]),
    Route(PATH + "/{number}/promote", deploy, methods=["POST"]),
]
