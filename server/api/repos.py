"""`/api/repos`: list, register, show, change and forget repositories (writes are for administrators)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from server.api.auth import current_user, may_read, require_admin
from server.api.common import read_model, services
from server.api.views import repo_view
from server.crypto import Cipher, new_token
from server.db.models import Build, Delivery, LogChunk, Outbox, Repo, Secret, Stage, Step, User
from server.store.repos import create_repo, delete_repo, find_repo, list_repos, update_repo

NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"
RESERVED_OWNERS = frozenset({"api", "static", "login", "logout", "hook", "healthz", "metrics"})
"""Owner names the web UI's own paths take (`/api/…`, `/static/…`): a repository there would have no pages."""
ENCRYPTED = frozenset({"webhook_secret", "api_token", "clone_password"})
"""Settings stored encrypted, and never shown."""


class RepoSettings(BaseModel):
    """The settings of a repository; in a change, only the fields given apply."""

    model_config = ConfigDict(extra="forbid", strict=True)

    clone_url: str = Field(default="", min_length=1)
    forge: Literal["github", "gitea", "gitlab"] = "github"
    webhook_secret: str = Field(default="", min_length=1)
    api_url: str = ""
    api_token: str = ""
    clone_login: str = ""
    clone_password: str = ""
    email_recipients: list[str] = Field(default_factory=list)
    email_policy: Literal["failure", "change", "always", "never"] = "change"
    trusted: bool = False
    config_path: str = ""
    timeout: int = Field(default=60, ge=1, le=1440)
    """Minutes a stage may run."""
    private: bool = False
    default_branch: str = Field(default="main", min_length=1)
    link: str = ""

    @field_validator("email_recipients")
    @classmethod
    def _addresses(cls, recipients: list[str]) -> list[str]:
        for address in recipients:
            if "@" not in address or any(char.isspace() for char in address):
                raise ValueError(f"{address!r} is not an email address")
        return recipients


class NewRepo(RepoSettings):
    """A repository to register."""

    owner: str = Field(max_length=200, pattern=NAME_PATTERN)
    name: str = Field(max_length=200, pattern=NAME_PATTERN)
    clone_url: str = Field(min_length=1)

    @field_validator("owner")
    @classmethod
    def _not_reserved(cls, owner: str) -> str:
        if owner.lower() in RESERVED_OWNERS:
            raise ValueError(f"{owner!r} is a path of Hangar's own pages; choose another owner name")
        return owner


def apply_settings(repo: Repo, values: dict[str, Any], cipher: Cipher) -> None:
    """Set the given settings on `repo`, encrypting the secret ones."""
    for field, value in values.items():
        setattr(repo, field, cipher.encrypt(value) if field in ENCRYPTED else value)


async def readable_repo(request: Request) -> tuple[Repo, User | None]:
    """The repository of the path and the caller; 404 when it does not exist or the caller may not see it."""
    user = await current_user(request)
    owner, name = request.path_params["owner"], request.path_params["name"]
    async with services(request).reading() as session:
        repo = await find_repo(session, owner, name)
    if repo is None or not may_read(user, repo):
        raise HTTPException(404, f"no repository {owner}/{name}")
    return repo, user


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
    hangar = services(request)
    generated = "" if body.webhook_secret else new_token()
    values = body.model_dump(exclude={"owner", "name"}) | {"webhook_secret": body.webhook_secret or generated}
    repo = Repo(owner=body.owner, name=body.name)
    apply_settings(repo, values, hangar.cipher)
    conflict = HTTPException(409, f"repository {body.owner}/{body.name} is already registered")
    try:
        async with hangar.transaction() as (session, _changes):
            if await find_repo(session, body.owner, body.name) is not None:
                raise conflict
            await create_repo(session, repo)
    except IntegrityError:
        raise conflict from None
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
    hangar = services(request)
    owner, name = request.path_params["owner"], request.path_params["name"]
    async with hangar.transaction() as (session, _changes):
        repo = await find_repo(session, owner, name)
        if repo is None:
            raise HTTPException(404, f"no repository {owner}/{name}")
        apply_settings(repo, body.model_dump(include=body.model_fields_set), hangar.cipher)
        await update_repo(session, repo)
    hangar.notifies.forget(repo.id or 0)
    return JSONResponse(repo_view(repo, settings=True))


async def forget(request: Request) -> Response:
    """Forget a repository with its builds, logs, secrets and deliveries: 204."""
    await require_admin(request)
    owner, name = request.path_params["owner"], request.path_params["name"]
    async with services(request).transaction() as (session, _changes):
        repo = await find_repo(session, owner, name)
        if repo is None:
            raise HTTPException(404, f"no repository {owner}/{name}")
        await _delete_history(session, repo.id or 0)
        await delete_repo(session, repo)
    return Response(status_code=204)


async def _delete_history(session: AsyncSession, repo_id: int) -> None:
    stage_ids = select(Stage.id).where(Stage.repo_id == repo_id)
    step_ids = select(Step.id).where(col(Step.stage_id).in_(stage_ids))
    await session.exec(delete(LogChunk).where(col(LogChunk.step_id).in_(step_ids)))
    await session.exec(delete(Step).where(col(Step.stage_id).in_(stage_ids)))
    await session.exec(delete(Stage).where(col(Stage.repo_id) == repo_id))
    build_ids = select(Build.id).where(Build.repo_id == repo_id)
    await session.exec(delete(Outbox).where(col(Outbox.build_id).in_(build_ids)))  # notifications not sent
    for table in (Build, Secret, Delivery):
        await session.exec(delete(table).where(col(table.repo_id) == repo_id))


routes = [
    Route("/repos", list_visible, methods=["GET"]),
    Route("/repos", register, methods=["POST"]),
    Route("/repos/{owner}/{name}", show, methods=["GET"]),
    Route("/repos/{owner}/{name}", change, methods=["PATCH"]),
    Route("/repos/{owner}/{name}", forget, methods=["DELETE"]),
]
