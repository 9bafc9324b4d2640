"""First start: the admin user with `HANGAR_ADMIN_TOKEN` as its API token."""

from __future__ import annotations

from server.db.models import User
from server.services import Services
from server.store.users import create_token, create_user, find_user, find_user_by_token

ADMIN_LOGIN = "admin"


async def bootstrap(hangar: Services) -> None:
    """Make sure the bootstrap admin exists and holds `HANGAR_ADMIN_TOKEN` (when set)."""
    token = hangar.settings.admin_token
    if not token:
        return
    async with hangar.transaction() as (session, _changes):
        if await find_user_by_token(session, token) is not None:
            return
        admin = await find_user(session, ADMIN_LOGIN) or await create_user(
            session, User(login=ADMIN_LOGIN, admin=True)
        )
        await create_token(session, admin, token, name="HANGAR_ADMIN_TOKEN")
