"""Starting builds from the pages: run a branch with parameters (repository page), promote or roll back a
finished build to a target (build page); a refused form comes back filled in, saying what was wrong."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from pipelines.links import build_link
from server.actions import starts
from server.actions.errors import ActionError
from server.api.common import services
from server.web.actions import allowed_build, allowed_repo
from server.web.forms import Attempt, parameters_of
from server.web.pages import build_page, repo_page


async def run_build(request: Request) -> Response:
    """A custom build of the form's branch with its parameters; then its page."""
    repo, user, form = await allowed_repo(request)
    fields = {name: str(form.get(name, "")) for name in ("branch", "parameters")}
    try:
        build = await starts.start_custom(
            services(request), repo, user.login, fields["branch"].strip(),
            parameters=parameters_of(fields["parameters"]),
        )  # fmt: skip
    except ActionError as exc:
        return await repo_page(request, Attempt(fields, exc.detail), status_code=exc.status_code)
    return RedirectResponse(build_link("", repo.slug, build.number), status_code=303)


async def deploy(request: Request) -> Response:
    """Promote (or roll back to) the build on the form's target with its parameters; then the new build."""
    repo, build, user, form = await allowed_build(request)
    fields = {name: str(form.get(name, "")) for name in ("target", "parameters", "event")}
    try:
        started = await starts.deploy(
            services(request), repo, build, user.login, fields["target"],
            parameters_of(fields["parameters"]), event=fields["event"] or "promote",
        )  # fmt: skip
    except ActionError as exc:
        return await build_page(request, Attempt(fields, exc.detail), status_code=exc.status_code)
    return RedirectResponse(build_link("", repo.slug, started.number), status_code=303)


routes = [
    Route("/{owner}/{name}/run", run_build, methods=["POST"]),
    Route("/{owner}/{name}/{number}/promote", deploy, methods=["POST"]),
]
