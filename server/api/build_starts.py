"""Builds people start and decide on: a custom build of a branch, a promotion or rollback of a build, and
approving or declining a blocked one (`/api/repos/{owner}/{name}/builds…`, Drone's paths)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.actions import approval, starts
from server.api.access import build_detail, buildable_repo, readable_build
from server.api.auth import require_user
from server.api.common import services
from server.db.models import Build
from server.forges.remote import Permission


def parameters(request: Request, *own: str) -> dict[str, str]:
    """The query's KEY=VALUE pairs but the endpoint's own (Drone passes a build's parameters this way)."""
    return {key: value for key, value in request.query_params.items() if key not in own}


async def create(request: Request) -> Response:
    """A custom build of `?branch=` (the default branch) at its head or `?commit=`; other query pairs are its
    parameters, variables of every step."""
    repo, user = await buildable_repo(request)
    query = request.query_params
    build = await starts.start_custom(
        services(request), repo, user.login, query.get("branch", ""), query.get("commit", ""),
        parameters(request, "branch", "commit"),
    )  # fmt: skip
    return await _answer(request, build, 201)


async def promote(request: Request) -> Response:
    """Promote the build to `?target=`: a new build of its commit with event `promote`."""
    return await _deploy(request, "promote")


async def rollback(request: Request) -> Response:
    """Roll back to the build on `?target=`: a new build of its commit with event `rollback`."""
    return await _deploy(request, "rollback")


async def approve(request: Request) -> Response:
    """Let a blocked build run."""
    _repo, build = await readable_build(request, Permission.WRITE)
    user = await require_user(request)
    return await _answer(request, await approval.approve(services(request), build, user.login))


async def decline(request: Request) -> Response:
    """End a blocked build `declined`."""
    _repo, build = await readable_build(request, Permission.WRITE)
    user = await require_user(request)
    return await _answer(request, await approval.decline(services(request), build, user.login))


async def _deploy(request: Request, event: str) -> Response:
    repo, build = await readable_build(request, Permission.WRITE)
    user = await require_user(request)
    target = request.query_params.get("target", "")
    hangar = services(request)
    params = parameters(request, "target")
    started = await starts.deploy(hangar, repo, build, user.login, target, params, event=event)
    return await _answer(request, started, 201)


async def _answer(request: Request, build: Build, status_code: int = 200) -> Response:
    async with services(request).reading() as session:
        return JSONResponse(await build_detail(session, build), status_code=status_code)


PATH = "/repos/{owner}/{name}/builds"
routes = [
    Route(PATH, create, methods=["POST"]),
    Route(PATH + "/{number}/promote", promote, methods=["POST"]),
    Route(PATH + "/{number}/rollback", rollback, methods=["POST"]),
    Route(PATH + "/{number}/approve", approve, methods=["POST"]),
    Route(PATH + "/{number}/decline", decline, methods=["POST"]),
]
