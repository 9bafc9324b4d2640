"""The build page's buttons: cancel a build, restart it or one of its stages, approve or decline a blocked
one (for signed-in people who may build)."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pipelines.links import build_link
from server.actions import approval
from server.actions import builds as actions
from server.api.common import parse_number, services
from server.web.forms import allowed_build


async def cancel(request: Request) -> Response:
    """Cancel the build, then show it."""
    repo, build, _user, _form = await allowed_build(request)
    await actions.cancel(services(request), build)
    return RedirectResponse(build_link("", repo.slug, build.number) + "?cancelling", status_code=303)


async def restart(request: Request) -> Response:
    """Restart the build (then show the new one), or with a `stage` field that stage (then show this one)."""
    repo, build, _user, form = await allowed_build(request)
    stage_field = str(form.get("stage", ""))
    stage_number = parse_number(stage_field) if stage_field else None
    if stage_field and not stage_number:
        raise HTTPException(400, f"no stage {stage_field[:20]!r}")
    restarted = await actions.restart(services(request), build, stage_number)
    return RedirectResponse(build_link("", repo.slug, restarted.number), status_code=303)


async def approve(request: Request) -> Response:
    """Let the blocked build run, then show it."""
    repo, build, user, _form = await allowed_build(request)
    await approval.approve(services(request), build, user.login)
    return RedirectResponse(build_link("", repo.slug, build.number), status_code=303)


async def decline(request: Request) -> Response:
    """End the blocked build `declined`, then show it."""
    repo, build, user, _form = await allowed_build(request)
    await approval.decline(services(request), build, user.login)
    return RedirectResponse(build_link("", repo.slug, build.number), status_code=303)


PATH = "/{owner}/{name}/{number}"
routes = [
    Route(PATH + "/cancel", cancel, methods=["POST"]),
    Route(PATH + "/restart", restart, methods=["POST"]),
    Route(PATH + "/approve", approve, methods=["POST"]),
    Route(PATH + "/decline", decline, methods=["POST"]),
]
