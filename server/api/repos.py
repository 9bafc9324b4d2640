"""`/api/repos`: list, register, show, change and forget repositories (writes are for administrators)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.actions import repos as actions
from server.actions.repos import NewRepo, RepoSettings
from server.api.access import readable_repo
from server.api.auth import current_user, may_read, require_admin
from server.api.common import read_model, repo_path, services
from server.api.views import repo_view
from server.store.repos import list_repos


async def list_visible(request: Request) -> Response:
    """The repositories the caller may see (anonymous callers: the public ones)."""
    user = await current_user(request)
    async with services(request).reading() as session:
        repos = await list_repos(session)
    admin = user is not None and user.admin
    return JSONResponse([repo_view(repo, settings=admin) for repo in repos if may_read(user, repo)])


async def register(request: Request) -> Response:
    """Register a repository: 201 with it (and its webhook secret, once, when Hangar generated it)."""
    await require_admin(request)
    body = await read_model(request, NewRepo)
    repo, generated = await actions.register(services(request), body)
    view = repo_view(repo, settings=True)
    if generated:
        view["webhook_secret"] = generated
    return JSONResponse(view, status_code=201)


async def show(request: Request) -> Response:
    """One repository (with its settings for administrators)."""
    repo, user = await readable_repo(request)
    return JSONResponse(repo_view(repo, settings=user is not None and user.admin))


async def change(request: Request) -> Response:
    """Change some of a repository's settings."""
    await require_admin(request)
    body = await read_model(request, RepoSettings)
    values = body.model_dump(include=body.model_fields_set)
    repo = await actions.change_settings(services(request), *repo_path(request), values)
    return JSONResponse(repo_view(repo, settings=True))


async def forget(request: Request) -> Response:
    """Forget a repository with its builds, logs, secrets and deliveries: 204."""
    await require_admin(request)
    await actions.forget(services(request), *repo_path(request))
    return Response(status_code=204)


routes = [
    Route("/repos", list_visible, methods=["GET"]),
    Route("/repos", register, methods=["POST"]),
    Route("/repos/{owner}/{name}", show, methods=["GET"]),
    Route("/repos/{owner}/{name}", change, methods=["PATCH"]),
    Route("/repos/{owner}/{name}", forget, methods=["DELETE"]),
]
