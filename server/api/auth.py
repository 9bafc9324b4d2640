"""Who is calling: runners (their token or the shared secret) and users (API tokens)."""

from __future__ import annotations

import hmac

from starlette.exceptions import HTTPException
from starlette.requests import Request

from pipelines.runner_api import RUNNER_HEADER
from server.api.common import services
from server.db.models import Repo, User
from server.store.runners import find_runner_by_token
from server.store.users import find_user_by_token


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


async def current_user(request: Request) -> User | None:
    """The user whose API token the request carries (None for anonymous requests)."""
    token = bearer_token(request)
    if not token:
        return None
    async with services(request).reading() as session:
        user = await find_user_by_token(session, token)
    if user is None:
        raise HTTPException(401, "unknown API token", {"WWW-Authenticate": "Bearer"})
    return user


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


def may_read(user: User | None, repo: Repo) -> bool:
    """Public repositories are visible to everyone; private ones to signed-in users."""
    return not repo.private or user is not None
