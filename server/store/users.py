"""Users, their API tokens and their browser sessions (both stored as hashes)."""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import bindparam
from sqlmodel import col, delete, or_, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from server.crypto import hash_token
from server.db.models import Token, User
from server.store.rows import save

_USER_BY_TOKEN = (
    select(User)
    .join(Token)
    .where(
        col(Token.user_id) == col(User.id),
        col(Token.token_hash) == bindparam("token_hash"),
        col(Token.kind) == bindparam("kind"),
        or_(col(Token.expires).is_(None), col(Token.expires) > bindparam("now")),
    )
)
"""Built once: every API request signed by a token or a session cookie looks its user up."""


async def find_user(session: AsyncSession, login: str) -> User | None:
    """The user with that login."""
    result = await session.exec(select(User).where(User.login == login))
    return result.first()


async def list_users(session: AsyncSession) -> Sequence[User]:
    """Every user, by login."""
    result = await session.exec(select(User).order_by(col(User.login)))
    return result.all()


async def find_user_by_token(session: AsyncSession, token: str, kind: str = "api") -> User | None:
    """The owner of an unexpired token of that kind (`api` or `session`), if it is one."""
    params = {"token_hash": hash_token(token), "kind": kind, "now": time.time()}
    return (await session.exec(_USER_BY_TOKEN, params=params)).first()


async def create_user(session: AsyncSession, user: User) -> User:
    """Add a user."""
    return await save(session, user)


async def update_user(session: AsyncSession, user: User) -> User:
    """Save a user's changed fields."""
    return await save(session, user)


async def replace_password_hash(session: AsyncSession, user_id: int, old: str, new: str) -> None:
    """Store `new` as the user's password hash if `old` is still the one stored (a sign-in upgrading the hash
    never undoes a password changed meanwhile)."""
    stored = col(User.password_hash) == old
    await session.exec(update(User).where(col(User.id) == user_id, stored).values(password_hash=new))


async def create_token(
    session: AsyncSession,
    user: User,
    token: str,
    name: str = "",
    *,
    kind: str = "api",
    expires: float | None = None,
) -> Token:
    """Give a user an API token or a session (only its hash is kept)."""
    assert user.id is not None
    row = Token(user_id=user.id, name=name, token_hash=hash_token(token), kind=kind, expires=expires)
    return await save(session, row)


async def delete_token(session: AsyncSession, token: str) -> None:
    """Forget a token or session (signing out); expired sessions go with it."""
    stale = or_(col(Token.token_hash) == hash_token(token), col(Token.expires) < time.time())
    await session.exec(delete(Token).where(stale))


async def delete_sessions(session: AsyncSession, user: User, keep: str = "") -> None:
    """End a user's browser sessions (their password changed), all but the one whose token is `keep`."""
    query = delete(Token).where(col(Token.user_id) == user.id, col(Token.kind) == "session")
    if keep:
        query = query.where(col(Token.token_hash) != hash_token(keep))
    await session.exec(query)
