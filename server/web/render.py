"""Rendering pages: the Jinja2 templates of `webui`, the context every page gets, and error pages."""

from __future__ import annotations

import hashlib
import json
import time
from functools import cache
from typing import Any
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from pipelines.links import build_link
from pipelines.sizes import format_size
from pipelines.status import Status
from server.api.auth import known_user
from server.db.models import Repo, User
from server.sessions import COOKIE, csrf_token
from webui import STATIC, TEMPLATES
from webui.ansi import ansi_to_html
from webui.present import (
    first_line,
    format_clock,
    format_duration,
    iso_time,
    short_sha,
    status_icon,
    status_label,
    time_ago,
    utc_time,
)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
"""Scripts only from this server (no inline script), no framing (clickjacking), forms post only here."""


@cache
def static_url(name: str) -> str:
    """The URL of a static asset, with its content's hash so browsers never use a stale copy."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"/static/{name}?v={digest}"


STATUS_TEXT = json.dumps({status.value: [status_icon(status), status_label(status)] for status in Status})
"""Each status's icon and words, for the page's script (so it shows them exactly as the server does)."""


def build_path(repo: Repo, number: int) -> str:
    """The path of a build's page."""
    return build_link("", repo.slug, number)


templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.globals.update(
    static=static_url,
    build_path=build_path,
    status_icon=status_icon,
    status_label=status_label,
    format_duration=format_duration,
    format_size=format_size,
    format_clock=format_clock,
    time_ago=time_ago,
    utc_time=utc_time,
    iso_time=iso_time,
    short_sha=short_sha,
    first_line=first_line,
    ansi=ansi_to_html,
    status_text=STATUS_TEXT,
)


async def page(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """A page, with what every page shows: who is signed in, the CSRF token for its forms, the time."""
    user = await known_user(request)
    forge = request.app.state.services.forge
    common = {
        "user": user,
        "csrf": _csrf(request, user),
        "now": time.time(),
        "forge_title": forge.title if forge else "",
    }
    return templates.TemplateResponse(
        request, template, common | context, status_code=status_code, headers=SECURITY_HEADERS
    )


def _csrf(request: Request, user: User | None) -> str:
    """The CSRF token the page's forms carry (signed in with a session cookie only)."""
    cookie = request.cookies.get(COOKIE, "")
    return csrf_token(cookie) if cookie and user is not None else ""


def safe_url(url: str) -> str:
    """A link from a forge or a setting if it is an http(s) address, else '' (no `javascript:` links)."""
    return url if url.lower().startswith(("https://", "http://")) else ""


def sign_in_redirect(request: Request) -> Response:
    """To the sign-in page, coming back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)


async def error_page(request: Request, exc: Exception) -> Response:
    """An HTTP error as a page; a page needing a signed-in user sends anonymous visitors to sign in."""
    assert isinstance(exc, HTTPException)
    try:
        user: User | None = await known_user(request)
    except HTTPException:  # an unknown API token
        user = None
    if exc.status_code == 401 and user is None and request.method == "GET":
        return sign_in_redirect(request)
    context = {"status_code": exc.status_code, "detail": exc.detail}
    return templates.TemplateResponse(
        request,
        "error.html",
        {"user": user, "csrf": _csrf(request, user), "now": time.time()} | context,
        status_code=exc.status_code,
        headers={**(exc.headers or {}), **SECURITY_HEADERS},
    )


templates.env.filters["safe_url"] = safe_url
