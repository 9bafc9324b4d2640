"""`/api/repos/{owner}/{name}/cron`: a repository's cron schedules (Drone's paths). Anyone who may read the
repository sees them; administrators change them; whoever may build runs one now."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.actions import crons as actions
from server.api.access import build_detail, buildable_repo, configurable_repo, readable_repo
from server.api.common import collection_routes, read_model, services
from server.db.models import Cron
from server.store.crons import find_cron, list_crons


def cron_view(cron: Cron) -> dict[str, Any]:
    """A cron as the API shows it (`next`: when it is due, Unix seconds)."""
    return {
        "name": cron.name, "expr": cron.expr, "branch": cron.branch, "disabled": cron.disabled,
        "next": cron.next_run, "prev": cron.prev_run, "created": cron.created, "updated": cron.updated,
    }  # fmt: skip


async def index(request: Request) -> Response:
    """The repository's crons, by name, with when each is next due."""
    repo, _user = await readable_repo(request)
    async with services(request).reading() as session:
        return JSONResponse([cron_view(cron) for cron in await list_crons(session, repo.id or 0)])


async def add(request: Request) -> Response:
    """Add a cron: 201; 400 naming the field that is wrong; 409 when the name is taken."""
    repo, _user = await configurable_repo(request)
    body = await read_model(request, actions.NewCron)
    return JSONResponse(cron_view(await actions.add_cron(services(request), repo, body)), status_code=201)


async def show(request: Request) -> Response:
    """One cron."""
    repo, _user = await readable_repo(request)
    name = request.path_params["cron"]
    async with services(request).reading() as session:
        cron = await find_cron(session, repo.id or 0, name)
    if cron is None:
        return JSONResponse({"error": f"{repo.slug} has no cron {name!r}"}, status_code=404)
    return JSONResponse(cron_view(cron))


async def change(request: Request) -> Response:
    """Change a cron's expression, branch or disabled flag."""
    repo, _user = await configurable_repo(request)
    body = await read_model(request, actions.CronChanges)
    cron = await actions.change_cron(services(request), repo, request.path_params["cron"], body)
    return JSONResponse(cron_view(cron))


async def remove(request: Request) -> Response:
    """Delete a cron."""
    repo, _user = await configurable_repo(request)
    await actions.remove_cron(services(request), repo, request.path_params["cron"])
    return Response(status_code=204)


async def run(request: Request) -> Response:
    """Build the cron now (201, the build); its schedule is unchanged."""
    repo, _user = await buildable_repo(request)
    build = await actions.run_cron(services(request), repo, request.path_params["cron"])
    async with services(request).reading() as session:
        return JSONResponse(await build_detail(session, build), status_code=201)


routes = collection_routes(
    "/repos/{owner}/{name}/cron",
    "cron",
    {"list": index, "add": add, "show": show, "change": change, "remove": remove, "run": run},
)
