"""`/api/repos`: list, register, switch on from the forge, show, change and forget repositories."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.actions import activation
from server.actions import repos as actions
from server.actions.repos import NewRepo, RepoSettings
from server.api.access import configurable_repo, readable_repo
from server.api.auth import current_user, may_configure, may_read, require_admin, require_user
from server.api.common import read_model, repo_path, services
from server.api.views import repo_view
from server.store.repos import list_repos


async def list_visible(request: Request) -> Response:
    """The repositories the caller may see (anonymous callers: the public ones)."""
    user = await current_user(request)
    hangar = services(request)
    async with hangar.reading() as session:
        repos = await list_repos(session)
    return JSONResponse([
        repo_view(repo, settings=await may_configure(hangar, user, repo))
        for repo in repos
        if await may_read(hangar, user, repo)
    ])  # fmt: skip


async def register(request: Request) -> Response:
    """Register a repository: 201 with it (and its webhook secret, once, when Hangar generated it)."""
    await require_admin(request)
    body = await read_model(request, NewRepo)
    repo, generated = await actions.register(services(request), body)
    view = repo_view(repo, settings=True)
    if generated:
        view["webhook_secret"] = generated
    return JSONResponse(view, status_code=201)


async def activate(request: Request) -> Response:
    """Switch `owner/name` on from the forge (its administrators): 201; Hangar makes the webhook."""
    user = await require_user(request)
    hangar = services(request)
    if hangar.forge is None:
        raise HTTPException(404, "no forge is configured: register repositories with POST /api/repos")
    repo = await activation.activate(hangar, user, *repo_path(request))
    return JSONResponse(repo_view(repo, settings=True), status_code=201)


async def show(request: Request) -> Response:
    """One repository (with its settings for those who may configure it)."""
    repo, user = await readable_repo(request)
    return JSONResponse(repo_view(repo, settings=await may_configure(services(request), user, repo)))


async def change(request: Request) -> Response:
    """Change some of a repository's settings."""
    await configurable_repo(request)
    body = await read_model(request, RepoSettings)
    values = body.model_dump(include=body.model_fields_set)
    repo = await actions.change_settings(services(request), *repo_path(request), values)
    return JSONResponse(repo_view(repo, settings=True))


async def forget(request: Request) -> Response:
    """Forget a repository with its builds, logs, secrets and deliveries (one switched on from the forge:
    its webhook too): 204."""
    repo, user = await configurable_repo(request)
    await activation.deactivate(services(request), repo, user)
    return Response(status_code=204)


routes = [
    Route("/repos", list_visible, methods=["GET"]),
    Route("/repos", register, methods=["POST"]),
    Route("/repos/{owner}/{name}", show, methods=["GET"]),
    Route("/repos/{owner}/{name}", activate, methods=["POST"]),
    Route("/repos/{owner}/{name}", change, methods=["PATCH"]),
    Route("/repos/{owner}/{name}", forget, methods=["DELETE"]),
]
