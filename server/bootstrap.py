"""First start: the admin user with `HANGAR_ADMIN_TOKEN` as its API token."""

from __future__ import annotations

from sqlmodel import col, delete

from server.crypto import hash_token
from server.db.models import Token, User
from server.services import Services
from server.store.users import create_token, create_user, find_user, find_user_by_token

ADMIN_LOGIN = "admin"
TOKEN_NAME = "HANGAR_ADMIN_TOKEN"


async def bootstrap(hangar: Services) -> None:
    """Make sure the bootstrap admin exists and holds `HANGAR_ADMIN_TOKEN` (when set), and only that one."""
    token = hangar.settings.admin_token
    if not token:
        return
    async with hangar.transaction() as (session, _changes):
        admin = await find_user(session, ADMIN_LOGIN) or await create_user(
            session, User(login=ADMIN_LOGIN, admin=True)
        )
        # A changed HANGAR_ADMIN_TOKEN replaces the earlier one (rotated after a leak): that one stops.
        stale = delete(Token).where(
            col(Token.user_id) == admin.id,
            col(Token.name) == TOKEN_NAME,
            col(Token.token_hash) != hash_token(token),
        )
        await session.exec(stale)
        if await find_user_by_token(session, token) is None:
            await create_token(session, admin, token, name=TOKEN_NAME)
