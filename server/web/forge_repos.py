"""Your repositories: what the signed-in user administers on the forge, to activate (Hangar makes the
webhook) or deactivate (Hangar removes it); synced on sign-in and on demand."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.accounts.sync import forge_repo_views, sync_repositories, synced_repositories
from server.actions import activation
from server.actions.errors import ActionError
from server.api.auth import current_user, may_configure
from server.api.common import services
from server.db.models import User
from server.forges.remote import ForgeError, Permission
from server.services import Services
from server.sessions import CSRF_FIELD
from server.store.repos import find_repo
from server.web.forms import read_form
from server.web.render import page

PATH = "/-/repos"
"""`-` begins no owner's name: the path never hides a repository's pages."""


async def repositories_page(request: Request, problem: str = "", status_code: int = 200) -> Response:
    """The repositories the user administers on the forge, each with Activate or Deactivate."""
    hangar, user = await _forge_user(request)
    listed = await synced_repositories(hangar, user)
    if listed is None:
        listed = await sync_repositories(hangar, user)
    administered = [repo for repo in listed if repo.permission >= Permission.ADMIN]
    context = {
        "forge": _title(hangar),
        "repos": await forge_repo_views(hangar, administered),
        "problem": problem,
    }
    return await page(request, "repositories.html", context, status_code=status_code)


async def sync(request: Request) -> Response:
    """Ask the forge again."""
    hangar, user = await _forge_user(request, await _csrf(request))
    try:
        await sync_repositories(hangar, user)
    except ForgeError as exc:
        return await repositories_page(request, str(exc), 502)
    return RedirectResponse(PATH, status_code=303)


async def activate(request: Request) -> Response:
    """Switch the repository of the form on."""
    csrf = await _csrf(request)
    hangar, user = await _forge_user(request, csrf)
    form = await read_form(request)
    try:
        repo = await activation.activate(hangar, user, str(form.get("owner", "")), str(form.get("name", "")))
    except (ActionError, ForgeError) as exc:
        detail = exc.detail if isinstance(exc, ActionError) else str(exc)
        return await repositories_page(request, detail, getattr(exc, "status_code", 502) or 502)
    return RedirectResponse(f"/{repo.owner}/{repo.name}", status_code=303)


async def deactivate(request: Request) -> Response:
    """Switch the repository of the form off (its administrators on the forge)."""
    hangar, user = await _forge_user(request, await _csrf(request))
    form = await read_form(request)
    async with hangar.reading() as session:
        repo = await find_repo(session, str(form.get("owner", "")), str(form.get("name", "")))
    if repo is None or not await may_configure(hangar, user, repo):
        raise HTTPException(404, "no such repository switched on")
    await activation.deactivate(hangar, repo, user)
    return RedirectResponse(PATH, status_code=303)


async def _csrf(request: Request) -> str:
    return str((await read_form(request)).get(CSRF_FIELD, ""))


async def _forge_user(request: Request, csrf: str | None = None) -> tuple[Services, User]:
    hangar = services(request)
    if hangar.forge is None:
        raise HTTPException(404, "no forge is configured")
    user = await current_user(request, csrf=csrf)
    if user is None:
        raise HTTPException(401, "sign in to see your repositories")
    return hangar, user


def _title(hangar: Services) -> str:
    return hangar.forge.title if hangar.forge is not None else ""


routes = [
    Route(PATH, repositories_page, methods=["GET"]),
    Route(PATH + "/sync", sync, methods=["POST"]),
    Route(PATH + "/activate", activate, methods=["POST"]),
    Route(PATH + "/deactivate", deactivate, methods=["POST"]),
]
