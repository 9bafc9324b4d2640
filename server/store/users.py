"""Users and their API tokens (stored as hashes)."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.crypto import hash_token
from server.db.models import Token, User


async def find_user(session: AsyncSession, login: str) -> User | None:
    """The user with that login."""
    result = await session.exec(select(User).where(User.login == login))
    return result.first()


async def find_user_by_token(session: AsyncSession, token: str) -> User | None:
    """The owner of an API token, if it is one."""
    query = select(User).join(Token).where(Token.user_id == User.id, Token.token_hash == hash_token(token))
    result = await session.exec(query)
    return result.first()


async def create_user(session: AsyncSession, user: User) -> User:
    """Add a user."""
    session.add(user)
    await session.flush()
    return user


async def create_token(session: AsyncSession, user: User, token: str, name: str = "") -> Token:
    """Give a user an API token (only its hash is kept)."""
    assert user.id is not None
    row = Token(user_id=user.id, name=name, token_hash=hash_token(token))
    session.add(row)
    await session.flush()
    return row
