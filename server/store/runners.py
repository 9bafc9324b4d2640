"""Registered runners and their tokens (stored as hashes)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from server.crypto import hash_token
from server.db.models import Runner
from server.store.rows import save


async def find_runner_by_token(session: AsyncSession, token: str) -> Runner | None:
    """The runner a token belongs to."""
    result = await session.exec(select(Runner).where(Runner.token_hash == hash_token(token)))
    return result.first()


async def find_runner(session: AsyncSession, name: str) -> Runner | None:
    """The runner with that name."""
    result = await session.exec(select(Runner).where(Runner.name == name))
    return result.first()


async def list_runners(session: AsyncSession) -> Sequence[Runner]:
    """Every registered runner, by name."""
    result = await session.exec(select(Runner).order_by(col(Runner.name)))
    return result.all()


async def create_runner(session: AsyncSession, name: str, token: str) -> Runner:
    """Register a runner with its token."""
    return await save(session, Runner(name=name, token_hash=hash_token(token)))


async def delete_runner(session: AsyncSession, runner: Runner) -> None:
    """Revoke a runner's token."""
    await session.delete(runner)
