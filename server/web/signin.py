"""Signing in with a password (a session cookie) and signing out."""

from __future__ import annotations

import functools

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.api.auth import current_user
from server.api.common import services
from server.crypto import check_password, hash_password
from server.keys import sign_in_failures_key
from server.services import Services
from server.sessions import COOKIE, CSRF_FIELD, end_session
from server.store.users import find_user, replace_password_hash
from server.web.forms import read_form, same_site
from server.web.render import page
from server.web.session_start import local_target, sign_in_context, signed_in

FAILURE_WINDOW_SECONDS = 600
MAX_FAILURES = {"login": 20, "address": 60}
"""Wrong passwords allowed per login and per client address in the window before sign-in answers 429."""


@functools.cache
def _unused_hash() -> str:
    """Checked against when the login is unknown, so the answer takes as long as for a wrong password.
    Made on the first sign-in, not at start-up: Argon2id takes 64 MiB while it works."""
    return hash_password("no one has this password")


async def sign_in_form(request: Request) -> Response:
    """The sign-in page."""
    target = local_target(request.query_params.get("next", "/"))
    return await page(request, "signin.html", sign_in_context(request, target))


async def sign_in(request: Request) -> Response:
    """Check the password; on success start a session and go where the visitor was going."""
    hangar = services(request)
    if not same_site(request, hangar.settings.url):  # another site signing the visitor in (login CSRF)
        raise HTTPException(403, "sign in from Hangar's own sign-in page")
    form = await read_form(request)
    login, password = str(form.get("login", "")).strip(), str(form.get("password", ""))
    target = local_target(str(form.get("next", "/")))
    counters = failure_counters(request, login)
    if await too_many_failures(hangar, counters):
        context = sign_in_context(request, target, login, "Too many wrong passwords: try again later.")
        response = await page(request, "signin.html", context, status_code=429)
        response.headers["Retry-After"] = str(FAILURE_WINDOW_SECONDS)
        return response
    unused = await run_in_threadpool(_unused_hash)  # before the lookup: the first sign-in is slower for all
    async with hangar.reading() as session:
        user = await find_user(session, login) if login else None
    stored = user.password_hash if user is not None and user.password_hash else unused
    check = await run_in_threadpool(check_password, password, stored)  # Argon2id: ~0.1 s off the event loop
    if user is None or not user.password_hash or not check.matches:
        await count_failure(hangar, counters)
        context = sign_in_context(request, target, login, "Wrong login or password.")
        return await page(request, "signin.html", context, status_code=401)
    if check.rehashed and user.id is not None:  # a legacy or outdated hash: the fresh one replaces it
        async with hangar.transaction() as (session, _changes):
            await replace_password_hash(session, user.id, user.password_hash, check.rehashed)
    return await signed_in(request, user, target)


def failure_counters(request: Request, login: str) -> dict[str, str]:
    """The Redis keys counting wrong passwords for this login and this client address."""
    address = request.client.host if request.client else "unknown"
    return {
        "login": sign_in_failures_key("login", login.casefold()[:200]),
        "address": sign_in_failures_key("ip", address),
    }


async def too_many_failures(hangar: Services, counters: dict[str, str]) -> bool:
    """Whether the login or the address has had too many wrong passwords lately (guessing)."""
    counts = await hangar.redis.mget(list(counters.values()))
    return any(int(count or 0) >= MAX_FAILURES[kind] for kind, count in zip(counters, counts, strict=True))


async def count_failure(hangar: Services, counters: dict[str, str]) -> None:
    """Count one wrong password against the login and the address, for the window (which the first one
    opens: `SET NX EX`, as Redis 6 has it; `hangar up` embeds Redis 6.2, which has no `EXPIRE NX`)."""
    async with hangar.redis.pipeline(transaction=False) as pipe:
        for key in counters.values():
            pipe.set(key, 0, ex=FAILURE_WINDOW_SECONDS, nx=True)
            pipe.incr(key)
        await pipe.execute()


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
