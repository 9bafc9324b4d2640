"""Switching a repository on from the forge (Hangar makes its row, a fresh webhook secret and the webhook)
and off (the webhook goes, then the repository with its history); the webhook's health."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from server.accounts.permissions import forget_permissions
from server.accounts.sync import forge_described
from server.accounts.tokens import SignInAgain, access_token
from server.actions.errors import ActionError, Conflict, NotFound
from server.actions.repos import RESERVED_OWNERS, forget
from server.crypto import new_token
from server.db.models import Repo, User
from server.forges.oauth import OAuthUnavailable
from server.forges.remote import ForgeError, ForgeRepo, Permission
from server.services import Services
from server.store.accounts import find_repo_by_forge_id
from server.store.deliveries import last_delivery
from server.store.repos import create_repo, find_repo, find_repo_by_id, update_repo

_log = logging.getLogger("hangar.accounts")


class Refused(ActionError):
    """The user may not switch the repository on (403)."""

    status_code = 403


def hook_url(hangar: Services) -> str:
    """Where the forge sends webhooks: `HANGAR_URL/hook`."""
    return hangar.settings.url.rstrip("/") + "/hook"


async def activate(hangar: Services, user: User, owner: str, name: str) -> Repo:
    """Switch `owner/name` on: the user must administer it on the forge; Hangar makes the webhook with their
    token and calls the forge with it from then on."""
    forge = hangar.forge
    assert forge is not None and user.id is not None
    token = await access_token(hangar, user.id)
    found = await forge.repository(token, owner, name)
    if found is None:
        raise NotFound(f"{forge.title} has no repository {owner}/{name} you may see")
    if found.permission < Permission.ADMIN:
        raise Refused(f"only administrators of {found.slug} on {forge.title} may switch it on")
    if found.owner.lower() in RESERVED_OWNERS:
        raise Conflict(
            f"{found.owner!r} is a path of Hangar's own pages: its repositories cannot be switched on"
        )
    secret = new_token()
    repo = _new_repo(hangar, user, found, token, secret)
    conflict = Conflict(f"{found.slug} is already switched on")
    try:
        async with hangar.transaction() as (session, _changes):
            if await find_repo_by_forge_id(session, forge.kind, found.id) or await find_repo(
                session, found.owner, found.name
            ):
                raise conflict
            await create_repo(session, repo)
    except IntegrityError:
        raise conflict from None
    try:
        hook_id = await forge.create_hook(token, found, hook_url(hangar), secret)
    except Exception:
        await forget(hangar, repo.owner, repo.name)
        raise
    async with hangar.transaction() as (session, _changes):
        stored = await find_repo_by_id(session, repo.id or 0)
        assert stored is not None
        stored.hook_id = hook_id
        repo = await update_repo(session, stored)
    await forget_permissions(hangar, repo.id or 0)
    return repo


def _new_repo(hangar: Services, user: User, found: ForgeRepo, token: str, secret: str) -> Repo:
    assert hangar.forge is not None
    encrypted = hangar.cipher.encrypt(token)
    repo = Repo(
        forge=hangar.forge.kind, forge_id=found.id, owner_id=user.id, api_url=hangar.forge.api_url,
        api_token=encrypted, clone_login=hangar.forge.clone_login(), clone_password=encrypted,
        webhook_secret=hangar.cipher.encrypt(secret),
    )  # fmt: skip
    for key, value in forge_described(found).items():
        setattr(repo, key, value)
    return repo


async def deactivate(hangar: Services, repo: Repo, user: User | None = None) -> None:
    """Switch a repository off: its webhook is removed from the forge (with the token of `user`, else of
    the repository's owner), then the repository goes with its history. A forge that cannot be asked does
    not keep it on: the webhook left behind is then answered 404."""
    if hangar.forge is not None and repo.hook_id:
        await _delete_hook(
            hangar, repo, [candidate.id for candidate in (user,) if candidate] + [repo.owner_id]
        )
    await forget(hangar, repo.owner, repo.name)
    await forget_permissions(hangar, repo.id or 0)


async def _delete_hook(hangar: Services, repo: Repo, user_ids: list[int | None]) -> None:
    assert hangar.forge is not None
    for user_id in dict.fromkeys(user_id for user_id in user_ids if user_id is not None):
        try:
            token = await access_token(hangar, user_id)
            await hangar.forge.delete_hook(token, repo.owner, repo.name, repo.hook_id)
        except (SignInAgain, OAuthUnavailable, ForgeError) as exc:
            _log.warning("%s: the webhook could not be removed as user %s: %s", repo.slug, user_id, exc)
            continue
        return


@dataclass(frozen=True)
class HookHealth:
    """The webhook as the settings page shows it: the last delivery, and whether the forge still has it."""

    last_delivery: float | None
    present: bool | None
    """None: not known (no forge webhook, or the forge did not answer)."""


async def hook_health(hangar: Services, repo: Repo) -> HookHealth:
    """When the last webhook arrived, and whether the forge still has the one Hangar made."""
    async with hangar.reading() as session:
        last = await last_delivery(session, repo.id or 0)
    present: bool | None = None
    if hangar.forge is not None and repo.hook_id and repo.owner_id is not None:
        try:
            token = await access_token(hangar, repo.owner_id)
            present = await hangar.forge.hook_exists(token, repo.owner, repo.name, repo.hook_id)
        except Exception:
            present = None
    return HookHealth(last, present)


async def recreate_hook(hangar: Services, user: User, repo: Repo) -> Repo:
    """Make the webhook again (the forge lost it), with a fresh secret, as `user` (who administers it)."""
    forge = hangar.forge
    assert forge is not None and user.id is not None
    token = await access_token(hangar, user.id)
    found = await forge.repository(token, repo.owner, repo.name)
    if found is None or found.id != repo.forge_id:
        raise NotFound(f"{forge.title} has no repository {repo.slug} you may see")
    secret = new_token()
    hook_id = await forge.create_hook(token, found, hook_url(hangar), secret)
    encrypted = hangar.cipher.encrypt(token)
    async with hangar.transaction() as (session, _changes):
        stored = await find_repo_by_id(session, repo.id or 0)
        if stored is None:
            raise NotFound(f"no repository {repo.slug}")
        stored.hook_id, stored.webhook_secret = hook_id, hangar.cipher.encrypt(secret)
        stored.owner_id, stored.api_token, stored.clone_password = user.id, encrypted, encrypted
        repo = await update_repo(session, stored)
    hangar.notifies.forget(repo.id or 0)
    return repo
