"""Repository secrets (the values stay encrypted here; the caller decrypts)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Secret
from server.store.rows import save

_SECRETS_OF_REPO = (
    select(Secret).where(col(Secret.repo_id) == bindparam("repo_id")).order_by(col(Secret.name))
)
"""Built once: read for every build compiled and every stage taken."""


async def list_secrets(session: AsyncSession, repo_id: int) -> Sequence[Secret]:
    """A repository's secrets, by name."""
    return (await session.exec(_SECRETS_OF_REPO, params={"repo_id": repo_id})).all()


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
