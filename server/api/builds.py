"""A repository's builds: the list, one build with its stages and steps, step logs, restart and cancel."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from pipelines.status import Status
from server.api.auth import require_user
from server.api.common import MAX_NUMBER, int_param, parse_number, services
from server.api.repos import readable_repo
from server.api.views import build_detail_view, build_view, line_view
from server.db.models import Build, Repo, Stage, Step
from server.progress import cancel_build, restart_stages
from server.services import Services
from server.store.builds import find_build, find_build_by_id, find_step, list_builds, list_stages, list_steps
from server.store.logs import read_lines
from server.trigger import restart_build
from webui.ansi import strip_ansi, without_sequences

DEFAULT_PAGE = 25
MAX_PAGE = 100
LOG_PAGE = 5_000
MAX_LOG_PAGE = 10_000
"""Log lines per answer: a longer log is read page by page (`?start=`)."""
MAX_MATCHES = 1000
"""Positions a log search answers with at most."""


def query_int(request: Request, name: str, default: int | None, minimum: int = 0) -> int | None:
    """A numeric query parameter (`default` when absent); 400 unless it is a number of at least `minimum`."""
    text = request.query_params.get(name, "")
    if not text:
        return default
    value = parse_number(text)
    if value is None:
        raise HTTPException(400, f"{name} must be a whole number from 0 to {MAX_NUMBER}, not {text[:40]!r}")
    if value < minimum:
        raise HTTPException(400, f"{name} must be at least {minimum}")
    return value


async def readable_build(request: Request) -> tuple[Repo, Build]:
    """The repository and build of the path; 404 when either is missing or hidden from the caller."""
    repo, _user = await readable_repo(request)
    number = int_param(request, "number")
    async with services(request).reading() as session:
        build = await find_build(session, repo.id or 0, number)
    if build is None:
        raise HTTPException(404, f"{repo.slug} has no build {number}")
    return repo, build


async def readable_step(request: Request) -> tuple[Repo, Build, Stage, Step]:
    """The build, stage and step of the path (`.../builds/{number}/logs/{stage}/{step}`); 404 when missing."""
    repo, build = await readable_build(request)
    stage_number, step_number = int_param(request, "stage"), int_param(request, "step")
    async with services(request).reading() as session:
        stage = next((s for s in await list_stages(session, build.id or 0) if s.number == stage_number), None)
        step = await find_step(session, stage.id or 0, step_number) if stage is not None else None
    if stage is None or step is None:
        raise HTTPException(404, f"build {build.number} has no step {stage_number}/{step_number}")
    return repo, build, stage, step


async def build_detail(session: AsyncSession, build: Build) -> dict[str, Any]:
    """The build with its stages and steps, as `GET .../builds/{number}` shows it."""
    stages = await list_stages(session, build.id or 0)
    steps = await list_steps(session, [stage.id or 0 for stage in stages])
    return build_detail_view(build, stages, steps)


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


async def search_log(
    hangar: Services, step_id: int, needle: str, limit: int = MAX_MATCHES
) -> tuple[list[tuple[int, float, str]], bool]:
    """The lines containing `needle` (case-insensitive, colours ignored), and whether there were more."""
    folded, start = needle.casefold(), 0
    found: list[tuple[int, float, str]] = []
    while True:
        async with hangar.reading() as session:
            lines = await read_lines(session, step_id, start, MAX_LOG_PAGE)
        for line in await asyncio.to_thread(matching_lines, lines, folded):  # CPU work off the event loop
            if len(found) == limit:
                return found, True
            found.append(line)
        if len(lines) < MAX_LOG_PAGE:
            return found, False
        start = lines[-1][0] + 1


def matching_lines(lines: list[tuple[int, float, str]], folded: str) -> list[tuple[int, float, str]]:
    """The lines whose text shows `folded` (casefolded); a page without it anywhere is ruled out at once."""
    if folded not in without_sequences("\n".join(text for _p, _s, text in lines)).casefold():
        return []
    return [
        line
        for line in lines
        if folded in without_sequences(line[2]).casefold() and folded in strip_ansi(line[2]).casefold()
    ]


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
    await require_user(request)
    _repo, build = await readable_build(request)
    stage_number = query_int(request, "stage", None, minimum=1)
    restarted = await restart_now(services(request), build, stage_number)
    async with services(request).reading() as session:
        view = await build_detail(session, restarted)
    return JSONResponse(view, status_code=201 if stage_number is None else 200)


async def restart_now(hangar: Services, build: Build, stage_number: int | None) -> Build:
    """Restart the build (the new build), or only its stage `stage_number` and its dependents (the build)."""
    if stage_number is None:
        restarted = await restart_build(hangar, build)
        async with hangar.reading() as session:
            fresh = await find_build_by_id(session, restarted.id or 0)
        assert fresh is not None
        return fresh
    async with hangar.transaction() as (session, changes):
        locked = await find_build_by_id(session, build.id or 0, lock=True)
        assert locked is not None
        stage = next((s for s in await list_stages(session, build.id or 0) if s.number == stage_number), None)
        if stage is None:
            raise HTTPException(404, f"build {build.number} has no stage {stage_number}")
        if not Status(stage.status).is_done:
            reason = f"stage {stage.name!r} is {stage.status}: only a finished stage restarts"
            raise HTTPException(409, reason)
        await restart_stages(session, changes, locked, stage_number)
    return locked


async def cancel(request: Request) -> Response:
    """Cancel a build: pending stages are skipped, running ones told to stop; 409 when it already finished."""
    await require_user(request)
    _repo, build = await readable_build(request)
    await cancel_now(services(request), build)
    async with services(request).reading() as session:
        return JSONResponse(await build_detail(session, build))


async def cancel_now(hangar: Services, build: Build) -> None:
    """Cancel a running build; 409 when it already finished."""
    async with hangar.transaction() as (session, changes):
        locked = await find_build_by_id(session, build.id or 0, lock=True)
        assert locked is not None
        if locked.finished is not None:
            reason = f"build {locked.number} already finished ({locked.status}): nothing to cancel"
            raise HTTPException(409, reason)
        await cancel_build(session, changes, locked)


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
