"""The build page's buttons: cancel a build, restart it or one of its stages (for signed-in users)."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pipelines.links import build_link
from server.actions import builds as actions
from server.api.access import readable_build
from server.api.auth import current_user, may_build
from server.api.common import parse_number, services
from server.db.models import Build, Repo
from server.sessions import CSRF_FIELD
from server.web.forms import read_form


async def allowed_build(request: Request) -> tuple[Repo, Build, FormData]:
    """The build of the path, once the form's CSRF token and the visitor's permission are checked."""
    form = await read_form(request)
    user = await current_user(request, csrf=str(form.get(CSRF_FIELD, "")))
    repo, build = await readable_build(request)
    if not await may_build(services(request), user, repo):
        raise HTTPException(403, "only those who may push to the repository may cancel or restart its builds")
    return repo, build, form


async def cancel(request: Request) -> Response:
    """Cancel the build, then show it."""
    repo, build, _form = await allowed_build(request)
    await actions.cancel(services(request), build)
    return RedirectResponse(build_link("", repo.slug, build.number) + "?cancelling", status_code=303)


async def restart(request: Request) -> Response:
    """Restart the build (then show the new one), or with a `stage` field that stage (then show this one)."""
    repo, build, form = await allowed_build(request)
    stage_field = str(form.get("stage", ""))
    stage_number = parse_number(stage_field) if stage_field else None
    if stage_field and not stage_number:
        raise HTTPException(400, f"no stage {stage_field[:20]!r}")
    restarted = await actions.restart(services(request), build, stage_number)
    return RedirectResponse(build_link("", repo.slug, restarted.number), status_code=303)


PATH = "/{owner}/{name}/{number}"
routes = [
    Route(PATH + "/cancel", cancel, methods=["POST"]),
    Route(PATH + "/restart", restart, methods=["POST"]),
]
