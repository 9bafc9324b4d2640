"""`/api/repos/{owner}/{name}/secrets` (administrators): names and flags only; values go in, never out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from server.actions.repos import existing_repo
from server.actions.secrets import (
    NewSecret,
    SecretChanges,
    add_secret,
    change_secret,
    existing_secret,
    remove_secret,
)
from server.api.access import configurable_repo
from server.api.common import collection_routes, read_model, repo_path, services
from server.api.views import secret_view
from server.store.secrets import list_secrets


async def index(request: Request) -> Response:
    """The repository's secrets, by name, without their values."""
    await configurable_repo(request)
    async with services(request).reading() as session:
        repo = await existing_repo(session, *repo_path(request))
        secrets = await list_secrets(session, repo.id or 0)
    return JSONResponse([secret_view(secret) for secret in secrets])


async def add(request: Request) -> Response:
    """Add a secret (encrypted at rest): 201; 409 when the repository has one of that name."""
    await configurable_repo(request)
    body = await read_model(request, NewSecret)
    secret = await add_secret(services(request), *repo_path(request), body)
    return JSONResponse(secret_view(secret), status_code=201)


async def show(request: Request) -> Response:
    """One secret, without its value."""
    await configurable_repo(request)
    async with services(request).reading() as session:
        secret = await existing_secret(session, *repo_path(request), request.path_params["secret"])
    return JSONResponse(secret_view(secret))


async def change(request: Request) -> Response:
    """Replace a secret's value or pull-request flag."""
    await configurable_repo(request)
    body = await read_model(request, SecretChanges)
    secret = await change_secret(services(request), *repo_path(request), request.path_params["secret"], body)
    return JSONResponse(secret_view(secret))


async def remove(request: Request) -> Response:
    """Delete a secret: 204."""
    await configurable_repo(request)
    await remove_secret(services(request), *repo_path(request), request.path_params["secret"])
    return Response(status_code=204)


routes = collection_routes(
    "/repos/{owner}/{name}/secrets",
    "secret",
    {"list": index, "add": add, "show": show, "change": change, "remove": remove},
)
