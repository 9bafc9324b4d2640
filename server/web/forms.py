"""Reading the pages' forms: refused whole when a field holds a NUL (no name, path or setting has one, and
PostgreSQL refuses them in text); sent by someone who may build (CSRF token checked); build parameters as
`KEY=VALUE` lines; a refused form to show again."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request

from server.actions.errors import ActionError
from server.api.access import readable_build, readable_repo
from server.api.auth import current_user, may_build
from server.api.common import services
from server.db.models import Build, Repo, User
from server.sessions import CSRF_FIELD


@dataclass
class Attempt:
    """A form that was refused: the fields as sent and the problem, so the page shows it again filled in."""

    fields: dict[str, str]
    problem: str


async def read_form(request: Request) -> FormData:
    """The request's form fields; 400 when one holds a NUL character."""
    form = await request.form()
    for key, value in form.multi_items():
        if "\x00" in key or (isinstance(value, str) and "\x00" in value):
            raise HTTPException(400, "NUL characters are not allowed")
    return form


async def allowed_repo(request: Request) -> tuple[Repo, User, FormData]:
    """The repository of the path and who may build it, once the form's CSRF token is checked; 403 else."""
    form = await read_form(request)
    user = await current_user(request, csrf=str(form.get(CSRF_FIELD, "")))
    repo, _user = await readable_repo(request)
    if user is None or not await may_build(services(request), user, repo):
        raise HTTPException(403, "sign in to start, cancel, restart or approve builds")
    return repo, user, form


async def allowed_build(request: Request) -> tuple[Repo, Build, User, FormData]:
    """The build of the path, for someone who may build (`allowed_repo`)."""
    repo, user, form = await allowed_repo(request)
    _repo, build = await readable_build(request)
    return repo, build, user, form


def parameters_of(text: str) -> dict[str, str]:
    """A form's build parameters, one `KEY=VALUE` a line (blank lines skipped); ActionError for a line
    without `=` (the names are checked by the action that starts the build)."""
    parameters: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, equals, value = line.partition("=")
        if not equals or not key.strip():
            raise ActionError(f"parameters, line {number}: write KEY=VALUE, not {line.strip()[:40]!r}")
        parameters[key.strip()] = value
    return parameters


def same_site(request: Request, own_url: str) -> bool:
    """Whether a form post comes from this server's own pages (`Sec-Fetch-Site` and `Origin`, if sent)."""
    if request.headers.get("sec-fetch-site", "same-origin") == "cross-site":
        return False
    origin = request.headers.get("origin", "")
    if not origin:
        return True
    host = request.headers.get("host", "")
    return origin in (f"{request.url.scheme}://{host}", _origin_of(own_url))


def _origin_of(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"
