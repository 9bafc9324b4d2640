"""Actions on a repository's secrets: add one (encrypted at rest), change its value or flag, remove it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError
from sqlmodel.ext.asyncio.session import AsyncSession

from server.actions.errors import Conflict, NotFound
from server.actions.repos import existing_repo
from server.db.models import Secret
from server.services import Services
from server.store.secrets import delete_secret, find_secret, save_secret

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


async def existing_secret(session: AsyncSession, owner: str, name: str, secret: str) -> Secret:
    """The secret named `secret` of repository `owner/name`; NotFound when either is missing."""
    repo = await existing_repo(session, owner, name)
    found = await find_secret(session, repo.id or 0, secret)
    if found is None:
        raise NotFound(f"{repo.slug} has no secret {secret!r}")
    return found


async def add_secret(hangar: Services, owner: str, name: str, new: NewSecret) -> Secret:
    """Store a new secret of repository `owner/name`, encrypted; Conflict when it has one of that name."""
    conflict = Conflict(f"a secret named {new.name!r} exists; PATCH it to change its value")
    try:
        async with hangar.transaction() as (session, _changes):
            repo = await existing_repo(session, owner, name)
            if await find_secret(session, repo.id or 0, new.name) is not None:
                raise conflict
            secret = Secret(
                repo_id=repo.id or 0,
                name=new.name,
                value=hangar.cipher.encrypt(new.value),
                pull_request=new.pull_request,
            )
            await save_secret(session, secret)
    except IntegrityError:
        raise conflict from None
    return secret


async def change_secret(
    hangar: Services, owner: str, name: str, secret_name: str, changes: SecretChanges
) -> Secret:
    """Replace a secret's value or pull-request flag (those given)."""
    async with hangar.transaction() as (session, _changes):
        secret = await existing_secret(session, owner, name, secret_name)
        if changes.value is not None:
            secret.value = hangar.cipher.encrypt(changes.value)
        if changes.pull_request is not None:
            secret.pull_request = changes.pull_request
        await save_secret(session, secret)
    return secret


async def remove_secret(hangar: Services, owner: str, name: str, secret_name: str) -> None:
    """Delete a secret."""
    async with hangar.transaction() as (session, _changes):
        await delete_secret(session, await existing_secret(session, owner, name, secret_name))
