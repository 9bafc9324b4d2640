"""What the forge says a signed-in user may do with a repository switched on from it, kept for a short time
(`HANGAR_PERMISSION_SECONDS`): a collaborator the forge no longer knows loses access within that time."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from server.accounts.tokens import SignInAgain, access_token
from server.db.models import Repo, User
from server.forges.oauth import OAuthUnavailable
from server.forges.remote import ForgeError, ForgeRepo, Permission
from server.keys import permission_key
from server.services import Services

_log = logging.getLogger("hangar.accounts")


async def forge_permission(hangar: Services, user: User, repo: Repo) -> Permission:
    """The user's permission on the repository as the forge answers it (with the user's own token); NONE
    when they have no forge account, their token no longer works or the forge does not answer."""
    assert hangar.forge is not None and user.id is not None and repo.id is not None
    key = permission_key(user.id, repo.id)
    cached = await hangar.redis.get(key)
    if cached is not None:
        return Permission[cached.decode()]
    try:
        token = await access_token(hangar, user.id)
        found = await hangar.forge.repository(token, repo.owner, repo.name)
    except SignInAgain:
        found = None
    except (ForgeError, OAuthUnavailable) as exc:  # not kept: asked again next time
        _log.warning("permission of %s on %s: %s", user.login, repo.slug, exc)
        return Permission.NONE
    permission = found.permission if found is not None and found.id == repo.forge_id else Permission.NONE
    await remember(hangar, user.id, repo.id, permission)
    return permission


async def remember(hangar: Services, user_id: int, repo_id: int, permission: Permission) -> None:
    """Keep what the forge said for `HANGAR_PERMISSION_SECONDS`."""
    seconds = max(1, int(hangar.settings.permission_seconds))
    await hangar.redis.set(permission_key(user_id, repo_id), permission.name, ex=seconds)


async def remember_all(
    hangar: Services, user_id: int, repos: Iterable[Repo], listed: Iterable[ForgeRepo]
) -> None:
    """Keep the permissions a repository list of the forge gave, for the repositories switched on."""
    by_id = {forge_repo.id: forge_repo.permission for forge_repo in listed}
    for repo in repos:
        if repo.id is not None and repo.forge_id in by_id:
            await remember(hangar, user_id, repo.id, by_id[repo.forge_id])


async def forget_permissions(hangar: Services, repo_id: int) -> None:
    """Drop every kept permission on a repository (it was switched off)."""
    keys = [
        key async for key in hangar.redis.scan_iter(match=permission_key(0, repo_id).replace(":0:", ":*:"))
    ]
    if keys:
        await hangar.redis.delete(*keys)
