"""Users' forge accounts (their OAuth tokens, encrypted) and the repositories switched on from the forge."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import ForgeAccount, Repo
from server.store.rows import save


async def find_account(session: AsyncSession, user_id: int) -> ForgeAccount | None:
    """The forge account of a user, if they signed in with the forge."""
    result = await session.exec(select(ForgeAccount).where(ForgeAccount.user_id == user_id))
    return result.first()


async def find_account_by_forge_id(
    session: AsyncSession, forge: str, forge_user_id: str
) -> ForgeAccount | None:
    """The account of the forge's user with that id."""
    query = select(ForgeAccount).where(
        ForgeAccount.forge == forge, ForgeAccount.forge_user_id == forge_user_id
    )
    return (await session.exec(query)).first()


async def save_account(session: AsyncSession, account: ForgeAccount) -> ForgeAccount:
    """Insert or update an account."""
    return await save(session, account)


async def find_repo_by_forge_id(session: AsyncSession, forge: str, forge_id: str) -> Repo | None:
    """The repository switched on from the forge whose id on it is `forge_id`."""
    if not forge_id:
        return None
    return (await session.exec(select(Repo).where(Repo.forge == forge, Repo.forge_id == forge_id))).first()


async def repos_owned_by(session: AsyncSession, user_id: int) -> Sequence[Repo]:
    """The repositories switched on by a user (the forge is called with their token)."""
    return (await session.exec(select(Repo).where(Repo.owner_id == user_id))).all()


async def set_owner_token(session: AsyncSession, user_id: int, encrypted: str) -> None:
    """Give a user's repositories their new token (encrypted): for commit statuses and cloning."""
    query = update(Repo).where(col(Repo.owner_id) == user_id)
    await session.exec(query.values(api_token=encrypted, clone_password=encrypted))
