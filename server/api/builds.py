"""A repository's builds: the list, one build with its stages and steps, step logs, restart and cancel."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from server.actions import builds as actions
from server.api.access import build_detail, readable_build, readable_repo, readable_step
from server.api.common import query_int, services
from server.api.views import build_view, line_view
from server.forges.remote import Permission
from server.log_search import search_log
from server.services import Services
from server.store.builds import find_build_by_id, list_builds
from server.store.logs import read_lines

DEFAULT_PAGE = 25
MAX_PAGE = 100
LOG_PAGE = 5_000
MAX_LOG_PAGE = 10_000
"""Log lines per answer: a longer log is read page by page (`?start=`)."""


async def history(request: Request) -> Response:
    """The builds, newest first: `?limit=` (25, at most 100), `?before=<number>`, `?branch=`."""
    repo, _user = await readable_repo(request)
    limit = min(query_int(request, "limit", DEFAULT_PAGE, minimum=1) or DEFAULT_PAGE, MAX_PAGE)
    before = query_int(request, "before", None)
    branch = request.query_params.get("branch", "")
    async with services(request).reading() as session:
        builds = await list_builds(session, repo.id or 0, limit=limit, before=before, branch=branch)
    return JSONResponse([build_view(build) for build in builds])


async def show(request: Request) -> Response:
    """One build with its stages and their steps."""
    _repo, build = await readable_build(request)
    async with services(request).reading() as session:
        return JSONResponse(await build_detail(session, build))


async def log(request: Request) -> Response:
    """A step's log lines (`?start=`, `?limit=`) as JSON, or as plain text with `?format=text`."""
    repo, build, stage, step = await readable_step(request)
    start = query_int(request, "start", 0) or 0
    hangar = services(request)
    if request.query_params.get("format") == "text":  # the whole log, streamed page by page
        filename = f"{repo.owner}-{repo.name}-{build.number}-{stage.name}-{step.name}.log"
        disposition = f'attachment; filename="{_safe_filename(filename)}"'
        text = _log_text(hangar, step.id or 0, start)
        return StreamingResponse(
            text, media_type="text/plain; charset=utf-8", headers={"Content-Disposition": disposition}
        )
    limit = min(query_int(request, "limit", LOG_PAGE, minimum=1) or LOG_PAGE, MAX_LOG_PAGE)
    async with hangar.reading() as session:
        lines = await read_lines(session, step.id or 0, start, limit)
    return JSONResponse([line_view(*line) for line in lines])


async def search(request: Request) -> Response:
    """The positions of a step's log lines containing `?q=` (ANSI colours ignored, any case), at most 1000."""
    _repo, _build, _stage, step = await readable_step(request)
    needle = request.query_params.get("q", "")
    if not needle.strip():
        raise HTTPException(400, "search for what? (?q=text)")
    found, truncated = await search_log(services(request), step.id or 0, needle)
    return JSONResponse({"matches": [position for position, _s, _t in found], "truncated": truncated})


async def _log_text(hangar: Services, step_id: int, start: int) -> AsyncIterator[str]:
    """The log's lines as text, a page at a time (a log of millions of lines is never held whole)."""
    while True:
        async with hangar.reading() as session:
            lines = await read_lines(session, step_id, start, MAX_LOG_PAGE)
        if not lines:
            return
        yield "".join(f"{text}\n" for _position, _seconds, text in lines)
        start = lines[-1][0] + 1


async def restart(request: Request) -> Response:
    """Restart: a new build of the same commit (201), or with `?stage=N` that stage and its dependents."""
    _repo, build = await readable_build(request, Permission.WRITE)
    stage_number = query_int(request, "stage", None, minimum=1)
    restarted = await actions.restart(services(request), build, stage_number)
    async with services(request).reading() as session:
        view = await build_detail(session, restarted)
    return JSONResponse(view, status_code=201 if stage_number is None else 200)


async def cancel(request: Request) -> Response:
    """Cancel a build: pending stages are skipped, running ones told to stop; 409 when it already finished."""
    _repo, build = await readable_build(request, Permission.WRITE)
    await actions.cancel(services(request), build)
    async with services(request).reading() as session:
        cancelled = await find_build_by_id(session, build.id or 0)  # as the cancel left it
        return JSONResponse(await build_detail(session, cancelled or build))


def _safe_filename(name: str) -> str:
    return "".join(char if (char.isascii() and char.isalnum()) or char in "-_." else "_" for char in name)


PATH = "/repos/{owner}/{name}/builds"
routes = [
    Route(PATH, history, methods=["GET"]),
    Route(PATH + "/{number}", show, methods=["GET"]),
    Route(PATH + "/{number}", restart, methods=["POST"]),
    Route(PATH + "/{number}", cancel, methods=["DELETE"]),
    Route(PATH + "/{number}/logs/{stage}/{step}", log, methods=["GET"]),
    Route(PATH + "/{number}/logs/{stage}/{step}/search", search, methods=["GET"]),
]
