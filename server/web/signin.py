"""Signing in with a password (a session cookie) and signing out."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.api.auth import current_user
from server.api.common import services
from server.crypto import hash_password, verify_password
from server.sessions import COOKIE, CSRF_FIELD, LIFETIME_SECONDS, end_session, start_session
from server.store.users import find_user
from server.web.forms import read_form, same_site
from server.web.render import page

_UNUSED_HASH = hash_password("no one has this password")
"""Checked against when the login is unknown, so the answer takes as long as for a wrong password."""


def local_target(target: str) -> str:
    """Where to go after signing in: a path on this server only (never another site)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


async def sign_in_form(request: Request) -> Response:
    """The sign-in page."""
    target = local_target(request.query_params.get("next", "/"))
    return await page(request, "signin.html", {"next": target, "login": "", "problem": ""})


async def sign_in(request: Request) -> Response:
    """Check the password; on success start a session and go where the visitor was going."""
    hangar = services(request)
    if not same_site(request, hangar.settings.url):  # another site signing the visitor in (login CSRF)
        raise HTTPException(403, "sign in from Hangar's own sign-in page")
    form = await read_form(request)
    login, password = str(form.get("login", "")).strip(), str(form.get("password", ""))
    target = local_target(str(form.get("next", "/")))
    async with hangar.reading() as session:
        user = await find_user(session, login) if login else None
    stored = user.password_hash if user is not None and user.password_hash else _UNUSED_HASH
    matches = await run_in_threadpool(verify_password, password, stored)  # scrypt: ~50 ms off the event loop
    if user is None or not user.password_hash or not matches:
        context = {"next": target, "login": login, "problem": "Wrong login or password."}
        return await page(request, "signin.html", context, status_code=401)
    earlier = request.cookies.get(COOKIE, "")
    if earlier:  # a new session, never the one the browser came with (session fixation)
        await end_session(hangar, earlier)
    token = await start_session(hangar, user)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE,
        token,
        max_age=LIFETIME_SECONDS,
        httponly=True,
        samesite="lax",
        secure=hangar.settings.url.startswith("https://"),
    )
    return response


async def sign_out(request: Request) -> Response:
    """End the session (the form carries the CSRF token) and go to the dashboard."""
    form = await read_form(request)
    user = await current_user(request, csrf=str(form.get(CSRF_FIELD, "")))
    cookie = request.cookies.get(COOKIE, "")
    if user is not None and cookie:
        await end_session(services(request), cookie)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE)
    return response


routes = [
    Route("/login", sign_in_form, methods=["GET"]),
    Route("/login", sign_in, methods=["POST"]),
    Route("/logout", sign_out, methods=["POST"]),
]
