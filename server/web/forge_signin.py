"""Signing in with the forge: OAuth2's authorization-code flow with `state` (bound to the browser by a cookie)
and PKCE; the user's repositories are synced on the way back."""

from __future__ import annotations

import json
import logging
import secrets

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from server.accounts.signin import SignInRefused, admit
from server.accounts.sync import sync_repositories
from server.api.common import services
from server.forges.configured import CALLBACK_PATH, callback_url
from server.forges.oauth import OAuthRefused, OAuthUnavailable, pkce_pair
from server.forges.remote import ForgeError
from server.keys import oauth_state_key
from server.web.render import page
from server.web.session_start import local_target, sign_in_context, signed_in

STATE_COOKIE = "hangar_oauth_state"
STATE_SECONDS = 600
"""How long a sign-in on the forge may take."""

_log = logging.getLogger("hangar.signin")


async def start(request: Request) -> Response:
    """Send the visitor to the forge to sign in, remembering the PKCE verifier and where they were going."""
    hangar = services(request)
    if hangar.forge is None:
        raise HTTPException(404, "no forge is configured: sign in with a password")
    state = secrets.token_urlsafe(32)
    verifier, challenge = pkce_pair()
    target = local_target(request.query_params.get("next", "/"))
    remembered = json.dumps({"verifier": verifier, "next": target})
    await hangar.redis.set(oauth_state_key(state), remembered, ex=STATE_SECONDS)
    address = await hangar.forge.oauth.authorize_address(callback_url(hangar.settings), state, challenge)
    response = RedirectResponse(address, status_code=303)
    response.set_cookie(
        STATE_COOKIE, state, max_age=STATE_SECONDS, path="/login", httponly=True, samesite="lax",
        secure=hangar.settings.url.startswith("https://"),
    )  # fmt: skip
    return response


async def finish(request: Request) -> Response:
    """The forge sent the visitor back: check `state`, exchange the code, admit the user, sync, sign in."""
    hangar = services(request)
    if hangar.forge is None:
        raise HTTPException(404, "no forge is configured: sign in with a password")
    query = request.query_params
    state = query.get("state", "")
    kept = await hangar.redis.getdel(oauth_state_key(state)) if state else None
    if kept is None or not secrets.compare_digest(state, request.cookies.get(STATE_COOKIE, "")):
        return await _refused(request, "The sign-in expired or did not start here: try again.", 400)
    remembered = json.loads(kept)
    if query.get("error"):
        return await _refused(
            request, f"{hangar.forge.title} did not sign you in: {query.get('error')}.", 403
        )
    try:
        tokens = await hangar.forge.oauth.exchange(
            query.get("code", ""), callback_url(hangar.settings), remembered["verifier"]
        )
        user = await admit(hangar, tokens)
    except (OAuthRefused, SignInRefused) as exc:
        return await _refused(request, f"{exc}.", 403)
    except (OAuthUnavailable, ForgeError) as exc:
        _log.warning("sign-in: %s", exc)
        return await _refused(request, f"{hangar.forge.title} did not answer: try again later.", 502)
    try:
        await sync_repositories(hangar, user)
    except Exception as exc:  # signed in all the same; "Your repositories" syncs again on demand
        _log.warning("sync of %s's repositories on sign-in: %s", user.login, exc)
    response = await signed_in(request, user, local_target(str(remembered.get("next", "/"))))
    response.delete_cookie(STATE_COOKIE, path="/login")
    return response


async def _refused(request: Request, problem: str, status_code: int) -> Response:
    response = await page(request, "signin.html", sign_in_context(request, "/", problem=problem), status_code)
    response.delete_cookie(STATE_COOKIE, path="/login")
    return response


routes = [
    Route("/login/forge", start, methods=["GET"]),
    Route(CALLBACK_PATH, finish, methods=["GET"]),
]
