"""Browser sessions: a random token in an HttpOnly cookie, stored hashed as a `session` token that expires.

Writes made with the cookie must also carry the session's CSRF token (a form field or `X-CSRF-Token`), which
only pages of this server can read: another site can make the browser send the cookie, never the token.
"""

from __future__ import annotations

import hmac
import time

from server.crypto import hash_token, new_token
from server.db.models import User
from server.services import Services
from server.store.users import create_token, delete_token, find_user_by_token

COOKIE = "hangar_session"
LIFETIME_SECONDS = 14 * 24 * 3600
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def start_session(hangar: Services, user: User) -> str:
    """A new session for `user`: the cookie's value."""
    token = new_token()
    async with hangar.transaction() as (session, _changes):
        await create_token(session, user, token, "browser", kind="session", expires=session_expiry())
    return token


async def end_session(hangar: Services, token: str) -> None:
    """Sign the session out (and drop expired ones)."""
    async with hangar.transaction() as (session, _changes):
        await delete_token(session, token)


async def session_user(hangar: Services, token: str) -> User | None:
    """The user of an unexpired session cookie."""
    async with hangar.reading() as session:
        return await find_user_by_token(session, token, kind="session")


def session_expiry() -> float:
    """When a session started now expires."""
    return time.time() + LIFETIME_SECONDS


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: derived from the cookie, which other sites cannot read."""
    return hash_token("csrf:" + session_token)[:40]


def csrf_matches(session_token: str, offered: str) -> bool:
    """Whether `offered` is the session's CSRF token."""
    return bool(offered) and hmac.compare_digest(csrf_token(session_token).encode(), offered.encode())
