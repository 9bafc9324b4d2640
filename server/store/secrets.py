"""Repository secrets (the values stay encrypted here; the caller decrypts)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Secret
from server.store.rows import save


async def list_secrets(session: AsyncSession, repo_id: int) -> Sequence[Secret]:
    """A repository's secrets, by name."""
    result = await session.exec(select(Secret).where(Secret.repo_id == repo_id).order_by(col(Secret.name)))
    return result.all()


async def find_secret(session: AsyncSession, repo_id: int, name: str) -> Secret | None:
    """The secret `name` of a repository."""
    result = await session.exec(select(Secret).where(Secret.repo_id == repo_id, Secret.name == name))
    return result.first()


async def save_secret(session: AsyncSession, secret: Secret) -> Secret:
    """Create or update a secret."""
    return await save(session, secret)


async def delete_secret(session: AsyncSession, secret: Secret) -> None:
    """Remove a secret."""
    await session.delete(secret)
