"""A repository's settings page (administrators): build settings, approval, notifications, secrets, cron
schedules (add one, disable or enable it, delete it, run it now; a refused cron form is shown again beside
the cron schedules, saying why) and the shared caches (listed, purged)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pipelines.links import build_link
from server.accounts.tokens import SignInAgain, owner_must_sign_in_again
from server.actions import crons
from server.actions.activation import hook_health, recreate_hook
from server.actions.errors import ActionError
from server.actions.repos import RepoSettings, change_settings
from server.actions.secrets import NewSecret, add_secret, remove_secret
from server.api.access import readable_repo
from server.api.auth import current_user, may_configure
from server.api.common import services
from server.caches.manage import list_caches, purge_caches
from server.db.models import Build, Repo
from server.forges.remote import ForgeError
from server.services import Services
from server.sessions import CSRF_FIELD
from server.store.crons import list_crons
from server.store.secrets import list_secrets
from server.web.forms import Attempt, read_form
from server.web.render import page

EDITABLE = (
    "private", "trusted", "timeout", "config_path", "default_branch", "email_policy", "email_recipients",
    "approval", "protected", "cache_auto",
)  # fmt: skip
CRON_FIELDS = ("name", "expr", "branch")
DISABLE, ENABLE = crons.CronChanges(disabled=True), crons.CronChanges(disabled=False)
APPROVAL_MODES = (
    ("none", "no build waits"),
    ("forks", "pull requests from forks wait"),
    ("pull_requests", "every pull request waits"),
    ("all", "every build from the forge waits"),
)
"""The approval modes (`RepoSettings.approval`) as the settings form offers them."""


async def configurable_repo(request: Request, form: FormData | None = None) -> Repo:
    """The repository of the path, for an administrator (a form's CSRF token checked first)."""
    csrf = str(form.get(CSRF_FIELD, "")) if form is not None else None
    user = await current_user(request, csrf=csrf)
    repo, _user = await readable_repo(request)
    if user is None:
        raise HTTPException(401, "sign in to change settings")
    if not await may_configure(services(request), user, repo):
        raise HTTPException(403, "only the repository's administrators may change its settings")
    return repo


async def settings_page(
    request: Request,
    problems: list[str] | None = None,
    status_code: int = 200,
    cron_attempt: Attempt | None = None,
) -> Response:
    """The settings form, the repository's secrets (names only) and its cron schedules (`cron_attempt`: a
    cron form sent back with its problem)."""
    repo = await configurable_repo(request)
    async with services(request).reading() as session:
        secrets = await list_secrets(session, repo.id or 0)
        schedules = await list_crons(session, repo.id or 0)
    hangar = services(request)
    context = {
        "repo": repo, "secrets": secrets, "crons": schedules, "problems": problems or [],
        "saved": "saved" in request.query_params, "approval_modes": APPROVAL_MODES,
        "cron_attempt": cron_attempt,
        "owner_problem": await owner_must_sign_in_again(hangar, repo.owner_id),
        "hook": await hook_health(hangar, repo) if repo.forge_id else None,
        "forge_title": hangar.forge.title if hangar.forge else "",
        "caches": await list_caches(hangar, repo), "cache_shared": hangar.settings.cache_shared,
    }  # fmt: skip
    return await page(request, "settings.html", context, status_code=status_code)


def form_settings(form: FormData) -> dict[str, Any]:
    """The settings as the form gives them, typed as `RepoSettings` wants them."""
    timeout = str(form.get("timeout", "")).strip()
    recipients = str(form.get("email_recipients", "")).replace(",", "\n").split()
    return {
        "private": form.get("private") == "on",
        "trusted": form.get("trusted") == "on",
        "timeout": int(timeout) if timeout.isascii() and timeout.isdigit() else timeout,
        "config_path": str(form.get("config_path", "")).strip(),
        "default_branch": str(form.get("default_branch", "")).strip(),
        "email_policy": str(form.get("email_policy", "")),
        "email_recipients": recipients,
        "protected": form.get("protected") == "on",
        "cache_auto": form.get("cache_auto") == "on",
    } | ({"approval": str(form["approval"])} if "approval" in form else {})


def problems_of(exc: ValidationError) -> list[str]:
    """A validation error as lines a person can act on."""
    return [
        f"{'.'.join(str(part) for part in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()
    ]


async def save_settings(request: Request) -> Response:
    """Change the settings; the form again with the problems when one is wrong."""
    form = await read_form(request)
    repo = await configurable_repo(request, form)
    try:
        checked = RepoSettings.model_validate(form_settings(form))
        values = checked.model_dump(include=set(EDITABLE), exclude_unset=True)
    except ValidationError as exc:
        return await settings_page(request, problems_of(exc), status_code=400)
    await change_settings(services(request), repo.owner, repo.name, values)
    return RedirectResponse(f"/{repo.owner}/{repo.name}/settings?saved", status_code=303)


async def add_secret_form(request: Request) -> Response:
    """Add a secret from the form."""
    form = await read_form(request)
    repo = await configurable_repo(request, form)
    try:
        body = NewSecret.model_validate(
            {
                "name": str(form.get("name", "")).strip(),
                "value": str(form.get("value", "")),
                "pull_request": form.get("pull_request") == "on",
            }
        )
    except ValidationError as exc:
        return await settings_page(request, problems_of(exc), status_code=400)
    try:
        await add_secret(services(request), repo.owner, repo.name, body)
    except ActionError as exc:
        return await settings_page(request, [exc.detail], status_code=exc.status_code)
    return RedirectResponse(f"/{repo.owner}/{repo.name}/settings?saved#secrets", status_code=303)


async def delete_secret_form(request: Request) -> Response:
    """Delete a secret."""
    form = await read_form(request)
    repo = await configurable_repo(request, form)
    await remove_secret(services(request), repo.owner, repo.name, request.path_params["secret"])
    return RedirectResponse(f"/{repo.owner}/{repo.name}/settings?saved#secrets", status_code=303)


async def add_cron_form(request: Request) -> Response:
    """Add the form's cron."""
    form = await read_form(request)
    repo = await configurable_repo(request, form)
    fields = {name: str(form.get(name, "")).strip() for name in CRON_FIELDS}
    try:
        await crons.add_cron(services(request), repo, crons.NewCron.model_validate(fields))
    except ValidationError as exc:
        return await cron_refused(request, fields, "; ".join(problems_of(exc)), 400)
    except ActionError as exc:
        return await cron_refused(request, fields, exc.detail, exc.status_code)
    return RedirectResponse(f"/{repo.owner}/{repo.name}/settings?saved#crons", status_code=303)


async def disable_cron(request: Request) -> Response:
    """Stop the cron building until it is enabled again."""
    return await _on_cron(request, lambda hangar, repo, name: crons.change_cron(hangar, repo, name, DISABLE))


async def enable_cron(request: Request) -> Response:
    """Let the cron build again, from its next due time after now."""
    return await _on_cron(request, lambda hangar, repo, name: crons.change_cron(hangar, repo, name, ENABLE))


async def delete_cron_form(request: Request) -> Response:
    """Delete the cron."""
    return await _on_cron(request, crons.remove_cron)


async def run_cron_now(request: Request) -> Response:
    """Build the cron's branch now (its schedule unchanged); then the build."""
    return await _on_cron(request, crons.run_cron)


async def _on_cron(request: Request, act: Callable[[Services, Repo, str], Awaitable[object]]) -> Response:
    """Do `act` to the path's cron, then show the cron schedules (or the build it started)."""
    form = await read_form(request)
    repo = await configurable_repo(request, form)
    try:
        done = await act(services(request), repo, request.path_params["cron"])
    except ActionError as exc:
        return await cron_refused(request, {}, exc.detail, exc.status_code)
    if isinstance(done, Build):
        return RedirectResponse(build_link("", repo.slug, done.number), status_code=303)
    return RedirectResponse(f"/{repo.owner}/{repo.name}/settings?saved#crons", status_code=303)


async def cron_refused(request: Request, fields: dict[str, str], problem: str, status_code: int) -> Response:
    """The settings page again, the problem beside the cron forms (the add form filled in as sent)."""
    return await settings_page(request, status_code=status_code, cron_attempt=Attempt(fields, problem))


async def recreate_hook_form(request: Request) -> Response:
    """Make the repository's webhook on the forge again (it was removed there)."""
    form = await read_form(request)
    repo = await configurable_repo(request, form)
    user = await current_user(request)
    assert user is not None
    try:
        await recreate_hook(services(request), user, repo)
    except (ActionError, ForgeError, SignInAgain) as exc:
        detail = exc.detail if isinstance(exc, ActionError) else str(exc)
        return await settings_page(request, [detail], status_code=getattr(exc, "status_code", 502) or 502)
    return RedirectResponse(f"/{repo.owner}/{repo.name}/settings?saved#webhook", status_code=303)


async def purge_caches_form(request: Request) -> Response:
    """Purge the repository's caches (the shared entries, and what runners kept on their disks)."""
    form = await read_form(request)
    repo = await configurable_repo(request, form)
    await purge_caches(services(request), repo)
    return RedirectResponse(f"/{repo.owner}/{repo.name}/settings?saved#caches", status_code=303)


PATH = "/{owner}/{name}/settings"
routes = [
    Route(PATH, settings_page, methods=["GET"]),
    Route(PATH, save_settings, methods=["POST"]),
    Route(PATH + "/secrets", add_secret_form, methods=["POST"]),
    Route(PATH + "/secrets/{secret}/delete", delete_secret_form, methods=["POST"]),
    Route(PATH + "/crons", add_cron_form, methods=["POST"]),
    Route(PATH + "/crons/{cron}/disable", disable_cron, methods=["POST"]),
    Route(PATH + "/crons/{cron}/enable", enable_cron, methods=["POST"]),
    Route(PATH + "/crons/{cron}/delete", delete_cron_form, methods=["POST"]),
    Route(PATH + "/crons/{cron}/run", run_cron_now, methods=["POST"]),
    Route(PATH + "/hook", recreate_hook_form, methods=["POST"]),
    Route(PATH + "/caches/purge", purge_caches_form, methods=["POST"]),
]
