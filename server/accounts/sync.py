"""A user's repositories on the forge ("Your repositories"), synced on sign-in and on demand; switched-on
repositories renamed, transferred or changed on the forge are updated by their forge id."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from server.accounts.permissions import remember_all
from server.accounts.tokens import access_token
from server.db.models import Repo, User
from server.forges.remote import ForgeRepo, Permission
from server.keys import forge_repos_key
from server.services import Services
from server.store.accounts import find_repo_by_forge_id
from server.store.repos import find_repo, list_repos, update_repo


async def sync_repositories(hangar: Services, user: User) -> list[ForgeRepo]:
    """Ask the forge for every repository the user may see, keep the list, and bring the switched-on ones
    up to date (name, owner, clone address, visibility, default branch)."""
    assert hangar.forge is not None and user.id is not None
    listed = await hangar.forge.repositories(await access_token(hangar, user.id))
    await hangar.redis.set(
        forge_repos_key(user.id), json.dumps([dataclasses.asdict(repo) for repo in listed])
    )
    for forge_repo in listed:
        await follow_forge(hangar, forge_repo)
    async with hangar.reading() as session:
        repos = await list_repos(session)
    await remember_all(hangar, user.id, repos, listed)
    return listed


async def synced_repositories(hangar: Services, user: User) -> list[ForgeRepo] | None:
    """The repositories of the user's last sync (None: never synced)."""
    kept = await hangar.redis.get(forge_repos_key(user.id or 0))
    if kept is None:
        return None
    return [ForgeRepo(**(item | {"permission": Permission(item["permission"])})) for item in json.loads(kept)]


async def follow_forge(hangar: Services, forge_repo: ForgeRepo) -> Repo | None:
    """The switched-on repository with that forge id, changed as the forge now describes it (a new name is
    taken unless another repository has it)."""
    assert hangar.forge is not None
    async with hangar.transaction() as (session, _changes):
        repo = await find_repo_by_forge_id(session, hangar.forge.kind, forge_repo.id)
        if repo is None:
            return None
        described = forge_described(forge_repo)
        renamed = (forge_repo.owner, forge_repo.name) != (repo.owner, repo.name)
        if renamed and await find_repo(session, forge_repo.owner, forge_repo.name) is not None:
            described.pop("owner"), described.pop("name")
        if any(getattr(repo, key) != value for key, value in described.items()):
            for key, value in described.items():
                setattr(repo, key, value)
            await update_repo(session, repo)
    hangar.notifies.forget(repo.id or 0)
    return repo


def forge_described(forge_repo: ForgeRepo) -> dict[str, object]:
    """The columns of a repository that come from the forge."""
    return {
        "owner": forge_repo.owner, "name": forge_repo.name, "clone_url": forge_repo.clone_url,
        "link": forge_repo.link, "private": forge_repo.private, "default_branch": forge_repo.default_branch,
    }  # fmt: skip


async def forge_repo_views(hangar: Services, listed: list[ForgeRepo]) -> list[dict[str, Any]]:
    """The forge's repositories as the API and the page show them: `permission` by name, `active` when
    switched on."""
    async with hangar.reading() as session:
        active = {repo.forge_id for repo in await list_repos(session) if repo.forge_id}
    return [
        dataclasses.asdict(repo) | {"permission": repo.permission.name.lower(), "active": repo.id in active}
        for repo in listed
    ]
