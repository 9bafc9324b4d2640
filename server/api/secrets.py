"""`/api/repos/{owner}/{name}/secrets` (administrators): names and flags only; values go in, never out."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.api.auth import require_admin
from server.api.common import read_model, services
from server.api.views import secret_view
from server.db.models import Repo, Secret
from server.services import Services
from server.store.repos import find_repo
from server.store.secrets import delete_secret, find_secret, list_secrets, save_secret

SECRET_NAME = r"^[A-Za-z_][A-Za-z0-9_.-]*$"


class NewSecret(BaseModel):
    """A secret to add."""

    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(max_length=200, pattern=SECRET_NAME)
    value: str = Field(min_length=1)
    pull_request: bool = False
    """Whether pull requests (which may come from forks) get it."""


class SecretChanges(BaseModel):
    """A new value or pull-request flag for a secret (each optional)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    value: str | None = Field(default=None, min_length=1)
    pull_request: bool | None = None


async def _repo(session: AsyncSession, request: Request) -> Repo:
    owner, name = request.path_params["owner"], request.path_params["name"]
    repo = await find_repo(session, owner, name)
    if repo is None:
        raise HTTPException(404, f"no repository {owner}/{name}")
    return repo


async def path_secret(session: AsyncSession, request: Request) -> Secret:
    """The secret of the path (`…/{owner}/{name}/…/{secret}`); 404 when the repository or it is missing."""
    repo = await _repo(session, request)
    name = request.path_params["secret"]
    secret = await find_secret(session, repo.id or 0, name)
    if secret is None:
        raise HTTPException(404, f"{repo.slug} has no secret {name!r}")
    return secret


async def index(request: Request) -> Response:
    """The repository's secrets, by name, without their values."""
    await require_admin(request)
    async with services(request).reading() as session:
        repo = await _repo(session, request)
        secrets = await list_secrets(session, repo.id or 0)
    return JSONResponse([secret_view(secret) for secret in secrets])


async def add(request: Request) -> Response:
    """Add a secret (encrypted at rest): 201; 409 when the repository has one of that name."""
    await require_admin(request)
    body = await read_model(request, NewSecret)
    secret = await add_secret(services(request), request, body)
    return JSONResponse(secret_view(secret), status_code=201)


async def add_secret(hangar: Services, request: Request, body: NewSecret) -> Secret:
    """Store a new secret of the path's repository, encrypted; 409 when it has one of that name."""
    conflict = HTTPException(409, f"a secret named {body.name!r} exists; PATCH it to change its value")
    try:
        async with hangar.transaction() as (session, _changes):
            repo = await _repo(session, request)
            if await find_secret(session, repo.id or 0, body.name) is not None:
                raise conflict
            secret = Secret(
                repo_id=repo.id or 0,
                name=body.name,
                value=hangar.cipher.encrypt(body.value),
                pull_request=body.pull_request,
            )
            await save_secret(session, secret)
    except IntegrityError:
        raise conflict from None
    return secret


async def show(request: Request) -> Response:
    """One secret, without its value."""
    await require_admin(request)
    async with services(request).reading() as session:
        secret = await path_secret(session, request)
    return JSONResponse(secret_view(secret))


async def change(request: Request) -> Response:
    """Replace a secret's value or pull-request flag."""
    await require_admin(request)
    body = await read_model(request, SecretChanges)
    hangar = services(request)
    async with hangar.transaction() as (session, _changes):
        secret = await path_secret(session, request)
        if body.value is not None:
            secret.value = hangar.cipher.encrypt(body.value)
        if body.pull_request is not None:
            secret.pull_request = body.pull_request
        await save_secret(session, secret)
    return JSONResponse(secret_view(secret))


async def remove(request: Request) -> Response:
    """Delete a secret: 204."""
    await require_admin(request)
    async with services(request).transaction() as (session, _changes):
        await delete_secret(session, await path_secret(session, request))
    return Response(status_code=204)


PATH = "/repos/{owner}/{name}/secrets"
routes = [
    Route(PATH, index, methods=["GET"]),
    Route(PATH, add, methods=["POST"]),
    Route(PATH + "/{secret}", show, methods=["GET"]),
    Route(PATH + "/{secret}", change, methods=["PATCH"]),
    Route(PATH + "/{secret}", remove, methods=["DELETE"]),
]
