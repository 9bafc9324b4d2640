"""Starting a session after a sign-in (a password or the forge's): where to go next, the sign-in page's
context, the session cookie."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from server.api.common import services
from server.db.models import User
from server.sessions import COOKIE, LIFETIME_SECONDS, end_session, start_session


def local_target(target: str) -> str:
    """Where to go after signing in: a path on this server only (never another site)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def sign_in_context(request: Request, target: str, login: str = "", problem: str = "") -> dict[str, object]:
    """What the sign-in page shows: the forge's button (when one is configured) and the password form."""
    forge = services(request).forge
    return {"next": target, "login": login, "problem": problem, "forge": forge.title if forge else ""}


async def signed_in(request: Request, user: User, target: str) -> Response:
    """Start a session for `user` (the cookie) and go to `target`."""
    hangar = services(request)
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
