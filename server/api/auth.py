"""Who is calling: runners (their token or the shared secret) and users (API tokens or session cookies)."""

from __future__ import annotations

import hmac

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request

from pipelines.runner_api import LEASE_HEADER, RUNNER_HEADER
from server.accounts.permissions import forge_permission
from server.api.common import services
from server.db.models import Repo, Stage, User
from server.forges.remote import Permission
from server.scheduler import held_stage
from server.services import Services
from server.sessions import COOKIE, CSRF_HEADER, SAFE_METHODS, csrf_matches, session_user
from server.store.runners import find_runner_by_token
from server.store.users import find_user_by_token

_ANONYMOUS = object()


def bearer_token(request: Request) -> str:
    """The `Authorization: Bearer` token ('' when none)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


async def runner_name(request: Request) -> str:
    """The calling runner's name; 401 unless it shows its own token or the shared runner secret."""
    token = bearer_token(request)
    shared = services(request).settings.runner_secret
    if token and shared and hmac.compare_digest(token.encode(), shared.encode()):
        name = request.headers.get(RUNNER_HEADER, "").strip()
        if not name:
            raise HTTPException(400, f"a runner using the shared secret must name itself in {RUNNER_HEADER}")
        return name
    if token:
        async with services(request).reading() as session:
            runner = await find_runner_by_token(session, token)
        if runner is not None:
            return runner.name
    raise HTTPException(
        401, "a runner token (or the shared runner secret) is required", {"WWW-Authenticate": "Bearer"}
    )


async def held(session: AsyncSession, stage_id: int, runner: str, request: Request) -> Stage:
    """The stage if runner `runner` holds it under the lease the request names; 409 otherwise."""
    stage = await held_stage(session, stage_id, runner, request.headers.get(LEASE_HEADER, ""))
    if stage is None:
        raise HTTPException(409, f"stage {stage_id} is no longer held by runner {runner!r}")
    return stage


async def current_user(request: Request, csrf: str | None = None) -> User | None:
    """The user of the request's API token or session cookie (None for anonymous requests).

    A write made with the session cookie needs the session's CSRF token: `csrf` (a form's field) or the
    `X-CSRF-Token` header; without it the request is refused (403).
    """
    user = await known_user(request)
    if user is not None and _needs_csrf(request):
        offered = csrf if csrf is not None else request.headers.get(CSRF_HEADER, "")
        if not csrf_matches(request.cookies.get(COOKIE, ""), offered):
            raise HTTPException(403, "the form is out of date (CSRF token missing or wrong): reload the page")
        request.state.csrf_checked = True
    return user


def _needs_csrf(request: Request) -> bool:
    """A write signed in by the session cookie (not a Bearer token), not checked yet."""
    return (
        request.method not in SAFE_METHODS
        and not bearer_token(request)
        and not getattr(request.state, "csrf_checked", False)
    )


async def known_user(request: Request) -> User | None:
    """Who the request's token or cookie belongs to, without checking a write's CSRF token (for showing pages:
    a page that answers a form is drawn for the visitor even when the form itself is refused)."""
    cached = getattr(request.state, "user", None)
    if cached is None:
        cached = await _identify(request)
        request.state.user = cached
    user = None if cached is _ANONYMOUS else cached
    assert user is None or isinstance(user, User)
    return user


async def _identify(request: Request) -> object:
    token = bearer_token(request)
    hangar = services(request)
    if token:
        async with hangar.reading() as session:
            user = await find_user_by_token(session, token)
        if user is None:
            raise HTTPException(401, "unknown API token", {"WWW-Authenticate": "Bearer"})
        return user
    cookie = request.cookies.get(COOKIE, "")
    found = await session_user(hangar, cookie) if cookie else None
    return found or _ANONYMOUS


async def require_user(request: Request) -> User:
    """The signed-in user; 401 for anonymous requests."""
    user = await current_user(request)
    if user is None:
        raise HTTPException(
            401, "sign in (Authorization: Bearer <token>) to do this", {"WWW-Authenticate": "Bearer"}
        )
    return user


async def require_admin(request: Request) -> User:
    """An administrator; 403 for others."""
    user = await require_user(request)
    if not user.admin:
        raise HTTPException(403, "only administrators may do this")
    return user


async def permission(hangar: Services, user: User | None, repo: Repo) -> Permission:
    """What `user` (None: an anonymous visitor) may do with `repo`: the one rule of the API and the pages.

    Administrators may do everything; anyone may read a public repository. A repository switched on from the
    forge people sign in with: what the forge says the user may (its `pull`, `push`, `admin`), asked with
    their token and kept briefly. Without a forge, or for a repository registered by hand: every signed-in
    user may read and build, administrators configure.
    """
    if user is not None and user.admin:
        return Permission.ADMIN
    public = Permission.NONE if repo.private else Permission.READ
    if user is None:
        return public
    if hangar.forge is None or not repo.forge_id:
        return Permission.WRITE
    return max(public, await forge_permission(hangar, user, repo))


async def may_read(hangar: Services, user: User | None, repo: Repo) -> bool:
    """Whether the user may see the repository, its builds and their logs."""
    return await permission(hangar, user, repo) >= Permission.READ


async def may_build(hangar: Services, user: User | None, repo: Repo) -> bool:
    """Whether the user may build: restart, cancel, start, promote, roll back, approve, decline, run crons."""
    return user is not None and await permission(hangar, user, repo) >= Permission.WRITE


async def may_configure(hangar: Services, user: User | None, repo: Repo) -> bool:
    """Whether the user may change the repository's settings, secrets and crons, or switch it off."""
    return user is not None and await permission(hangar, user, repo) >= Permission.ADMIN
