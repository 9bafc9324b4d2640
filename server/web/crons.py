"""The settings page's cron schedules (administrators): add one, disable or enable it, delete it, run it now;
a refused form comes back on the settings page saying why next to it."""

from __future__ import annotations

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pipelines.links import build_link
from server.actions import crons as actions
from server.actions.errors import ActionError
from server.api.common import services
from server.db.models import Repo
from server.web.forms import Attempt, read_form
from server.web.settings_page import configurable_repo, problems_of, settings_page

FIELDS = ("name", "expr", "branch")


def crons_section(repo: Repo) -> RedirectResponse:
    """Back to the settings page's cron schedules."""
    return RedirectResponse(f"/{repo.owner}/{repo.name}/settings?saved#crons", status_code=303)


async def add(request: Request) -> Response:
    """Add the form's cron."""
    form = await read_form(request)
    repo = await configurable_repo(request, form)
    fields = {name: str(form.get(name, "")).strip() for name in FIELDS}
    try:
        body = actions.NewCron.model_validate(fields)
        await actions.add_cron(services(request), repo, body)
    except ValidationError as exc:
        return await refused(request, fields, "; ".join(problems_of(exc)), 400)
    except ActionError as exc:
        return await refused(request, fields, exc.detail, exc.status_code)
    return crons_section(repo)


async def disable(request: Request) -> Response:
    """Stop the cron building until it is enabled again."""
    return await _change(request, actions.CronChanges(disabled=True))


async def enable(request: Request) -> Response:
    """Let the cron build again, from its next due time after now."""
    return await _change(request, actions.CronChanges(disabled=False))


async def delete(request: Request) -> Response:
    """Delete the cron."""
    form = await read_form(request)
    repo = await configurable_repo(request, form)
    try:
        await actions.remove_cron(services(request), repo, request.path_params["cron"])
    except ActionError as exc:
        return await refused(request, {}, exc.detail, exc.status_code)
    return crons_section(repo)


async def run(request: Request) -> Response:
    """Build the cron's branch now (its schedule unchanged); then the build."""
    form = await read_form(request)
    repo = await configurable_repo(request, form)
    try:
        build = await actions.run_cron(services(request), repo, request.path_params["cron"])
    except ActionError as exc:
        return await refused(request, {}, exc.detail, exc.status_code)
    return RedirectResponse(build_link("", repo.slug, build.number), status_code=303)


async def _change(request: Request, changes: actions.CronChanges) -> Response:
    form = await read_form(request)
    repo = await configurable_repo(request, form)
    try:
        await actions.change_cron(services(request), repo, request.path_params["cron"], changes)
    except ActionError as exc:
        return await refused(request, {}, exc.detail, exc.status_code)
    return crons_section(repo)


async def refused(request: Request, fields: dict[str, str], problem: str, status_code: int) -> Response:
    """The settings page again, the problem beside the cron forms (the add form filled in as sent)."""
    return await settings_page(request, status_code=status_code, cron_attempt=Attempt(fields, problem))


PATH = "/{owner}/{name}/settings/crons"
routes = [
    Route(PATH, add, methods=["POST"]),
    Route(PATH + "/{cron}/disable", disable, methods=["POST"]),
    Route(PATH + "/{cron}/enable", enable, methods=["POST"]),
    Route(PATH + "/{cron}/delete", delete, methods=["POST"]),
    Route(PATH + "/{cron}/run", run, methods=["POST"]),
]
