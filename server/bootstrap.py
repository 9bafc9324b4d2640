"""First start: the admin user with `HANGAR_ADMIN_TOKEN` as its API token and `HANGAR_ADMIN_PASSWORD`."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete

from server.crypto import check_password, hash_password, hash_token
from server.db.models import Token, User
from server.services import Services
from server.store.users import create_token, create_user, find_user, find_user_by_token, update_user

ADMIN_LOGIN = "admin"
TOKEN_NAME = "HANGAR_ADMIN_TOKEN"
TRIES = 3


async def bootstrap(hangar: Services) -> None:
    """Make sure the bootstrap admin exists and holds `HANGAR_ADMIN_TOKEN` (when set), and only that one.

    Replicas started together on a new database each find no admin and make one: the replica whose insert
    loses (a unique key) looks again and finds the other's, instead of failing to start."""
    for attempt in range(1, TRIES + 1):
        try:
            await _bootstrap(hangar)
            return
        except IntegrityError:
            if attempt == TRIES:
                raise


async def _bootstrap(hangar: Services) -> None:
    token, password = hangar.settings.admin_token, hangar.settings.admin_password
    if not token and not password:
        return
    async with hangar.transaction() as (session, _changes):
        admin = await find_user(session, ADMIN_LOGIN) or await create_user(
            session, User(login=ADMIN_LOGIN, admin=True)
        )
        check = check_password(password, admin.password_hash) if password else None
        if check is not None and (not check.matches or check.rehashed):  # changed, or its hash outdated
            admin.password_hash = check.rehashed or hash_password(password)
            await update_user(session, admin)
        if not token:
            return
        # A changed HANGAR_ADMIN_TOKEN replaces the earlier one (rotated after a leak): that one stops.
        stale = delete(Token).where(
            col(Token.user_id) == admin.id,
            col(Token.name) == TOKEN_NAME,
            col(Token.token_hash) != hash_token(token),
        )
        await session.exec(stale)
        if await find_user_by_token(session, token) is None:
            await create_token(session, admin, token, name=TOKEN_NAME)
