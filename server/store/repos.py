"""Repositories."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.db.models import Repo


async def find_repo(session: AsyncSession, owner: str, name: str) -> Repo | None:
    """The repository `owner/name`, if registered."""
    result = await session.exec(select(Repo).where(Repo.owner == owner, Repo.name == name))
    return result.first()


async def find_repo_by_id(session: AsyncSession, repo_id: int) -> Repo | None:
    """The repository with that id."""
    return await session.get(Repo, repo_id)


async def list_repos(session: AsyncSession) -> Sequence[Repo]:
    """Every repository, by slug."""
    result = await session.exec(select(Repo).order_by(col(Repo.owner), col(Repo.name)))
    return result.all()


async def create_repo(session: AsyncSession, repo: Repo) -> Repo:
    """Register a repository."""
    session.add(repo)
    await session.flush()
    return repo


async def update_repo(session: AsyncSession, repo: Repo) -> Repo:
    """Save a repository's changed settings."""
    session.add(repo)
    await session.flush()
    return repo


async def delete_repo(session: AsyncSession, repo: Repo) -> None:
    """Forget a repository (its builds stay until deleted with it by the caller)."""
    await session.delete(repo)


async def next_build_number(session: AsyncSession, repo_id: int) -> int:
    """Reserve the repository's next build number (atomic: two triggers never get the same)."""
    result = await session.exec(
        update(Repo).where(col(Repo.id) == repo_id).values(counter=Repo.counter + 1).returning(Repo.counter)  # type: ignore[call-overload]
    )
    return int(result.scalar_one())
