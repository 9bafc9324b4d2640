"""Actions on a repository: register it, change its settings, forget it with its whole history."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from server.actions.errors import Conflict, NotFound
from server.caches.manage import forget_caches
from server.crypto import Cipher, new_token
from server.db.models import Repo
from server.services import Services
from server.store.repos import create_repo, delete_repo, find_repo, update_repo

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
    approval: Literal["none", "forks", "pull_requests", "all"] = "forks"
    """Which builds from the forge wait until someone who may build approves them."""
    protected: bool = False
    """Drone's protected mode: an unsigned or wrongly signed pipeline file waits for approval."""
    cache_auto: bool = True
    """Runners recognise lockfiles and keep the tools' caches without a `cache:` section."""

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


async def existing_repo(session: AsyncSession, owner: str, name: str) -> Repo:
    """The registered repository `owner/name`; NotFound otherwise."""
    repo = await find_repo(session, owner, name)
    if repo is None:
        raise NotFound(f"no repository {owner}/{name}")
    return repo


async def register(hangar: Services, new: NewRepo) -> tuple[Repo, str]:
    """Register a repository; with the webhook secret Hangar generated for it ('' when one was given)."""
    generated = "" if new.webhook_secret else new_token()
    values = new.model_dump(exclude={"owner", "name"}) | {"webhook_secret": new.webhook_secret or generated}
    repo = Repo(owner=new.owner, name=new.name)
    apply_settings(repo, values, hangar.cipher)
    conflict = Conflict(f"repository {new.owner}/{new.name} is already registered")
    try:
        async with hangar.transaction() as (session, _changes):
            if await find_repo(session, new.owner, new.name) is not None:
                raise conflict
            await create_repo(session, repo)
    except IntegrityError:
        raise conflict from None
    return repo, generated


async def change_settings(hangar: Services, owner: str, name: str, values: dict[str, Any]) -> Repo:
    """Change some of a repository's settings (`values`, checked by `RepoSettings`)."""
    async with hangar.transaction() as (session, _changes):
        repo = await existing_repo(session, owner, name)
        apply_settings(repo, values, hangar.cipher)
        await update_repo(session, repo)
    hangar.notifies.forget(repo.id or 0)
    return repo


async def forget(hangar: Services, owner: str, name: str) -> None:
    """Forget a repository with its builds, logs, secrets, deliveries and notifications not yet sent."""
    async with hangar.transaction() as (session, _changes):
        repo = await existing_repo(session, owner, name)
        await delete_repo(session, repo)
    hangar.notifies.forget(repo.id or 0)
    await forget_caches(hangar, repo.id or 0)
